"""FOCUS charges attributed to tenants by tag or custom column, per provider."""
