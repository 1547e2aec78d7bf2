"""costattr's figures for other tools: the attributed costs as a FOCUS dataset."""

# Owners shown in the UI for the exports.
# (docs/decisions.md: owners).
OWNERS = ["team:finops"]
