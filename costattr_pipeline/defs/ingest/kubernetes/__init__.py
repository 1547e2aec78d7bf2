"""Kubernetes cluster usage (Koku/OpenShift style): pods, persistent volume claims and virtual machines per day."""
