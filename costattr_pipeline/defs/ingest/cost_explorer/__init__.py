"""AWS Cost Explorer: daily cost by tenant tag and service, landed append-only."""
