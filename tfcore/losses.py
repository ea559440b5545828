"""`tf.losses`: loss functions that add themselves to the LOSSES collection (tfcore/ops/losses_ops.py)."""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.losses_ops import *
