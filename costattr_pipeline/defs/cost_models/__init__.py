"""Kubernetes cost models (Koku style): rates turn cluster usage into cost per day, cluster, node and namespace."""
