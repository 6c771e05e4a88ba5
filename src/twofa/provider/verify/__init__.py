"""Twilio Verify v2 on the wire: accounts, services, verifications, checks and rate limits."""
