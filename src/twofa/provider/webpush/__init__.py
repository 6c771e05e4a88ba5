"""Web Push wake-ups for the authenticator web app (RFC 8030, 8291, 8292)."""
