"""Unattributed AWS cost: the share of each day's cost with no tenant tag, against the threshold."""
