"""The provider: a self-hosted 2FA service that speaks the Authy REST API."""
