"""Phone numbers and phone verification."""
