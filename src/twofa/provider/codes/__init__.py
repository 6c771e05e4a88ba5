"""One-time codes: SMS and voice codes, app TOTP and generic-authenticator TOTP."""
