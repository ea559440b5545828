"""Op specs for the random family."""

SPECS = []
