"""The fraud guard: line types, geo permissions, SMS-pumping detection and blocks."""
