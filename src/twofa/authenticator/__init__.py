"""The authenticator: the device side of twofa (the CLI device here, the PWA under ``web``)."""
