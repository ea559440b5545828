"""Op specs for the nn family."""

SPECS = []
