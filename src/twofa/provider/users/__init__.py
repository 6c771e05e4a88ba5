"""Application users, keyed by phone number per application."""
