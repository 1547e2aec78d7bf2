"""Alerts: breaches recorded once in ``metering.alerts`` and delivered per channel."""
