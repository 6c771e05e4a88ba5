"""Applications: API keys, callback settings and usage statistics."""
