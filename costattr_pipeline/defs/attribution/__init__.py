"""Attribution: each source's cost per tenant and day, the unattributed share, the daily tenant summary."""

# Owners shown in the UI for the attribution assets: the team that answers for who caused which cost.
# (docs/decisions.md: owners).
OWNERS = ["team:finops"]
