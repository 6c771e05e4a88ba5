"""OneTouch approval requests: create, read, expire, decide."""
