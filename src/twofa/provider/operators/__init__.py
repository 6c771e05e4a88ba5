"""Console operators: accounts, passwords, second factors (TOTP and WebAuthn), sessions."""
