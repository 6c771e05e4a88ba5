"""Enrolled devices: registration, signed requests, decisions and live events."""
