"""The append-only audit log of security events, chained by hash so tampering shows."""
