"""Signed OneTouch callbacks, delivered from a durable queue with retries."""
