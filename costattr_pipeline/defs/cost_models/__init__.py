"""Kubernetes cost models (Koku style): rates turn cluster usage into cost per day, cluster, node and namespace."""

# Owners shown in the UI for the cost-model assets: the team that prices cluster usage (docs/decisions.md: owners).
OWNERS = ["team:finops"]
