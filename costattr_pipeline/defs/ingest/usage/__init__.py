"""Product metering: usage events (deduplicated by event_id) and external API costs."""
