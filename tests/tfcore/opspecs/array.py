"""Op specs for array ops (tfcore/ops/array_ops.py)."""

SPECS = []
