"""`tf.contrib.layers`: regularizers, `fully_connected` and `flatten` (tfcore/ops/layers_ops.py)."""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.layers_ops import *
