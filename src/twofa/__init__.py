"""twofa: self-hosted two-factor authentication with an Authy-compatible API."""

__version__ = "0.1.0"
