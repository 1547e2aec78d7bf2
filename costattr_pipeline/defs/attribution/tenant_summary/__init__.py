"""Every day's whole cost per tenant, module and resource type: the base of margins and unit costs."""
