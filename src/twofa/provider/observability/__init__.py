"""Logs, metrics and request ids: what an operator needs to see the provider working."""
