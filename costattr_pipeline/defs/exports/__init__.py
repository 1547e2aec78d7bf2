"""costattr's figures for other tools: the attributed costs as a FOCUS dataset."""
