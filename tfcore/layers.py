"""`tf.layers` (and `tf.compat.v1.layers`): dense, conv2d, conv2d_transpose, the pooling layers,
dropout, flatten and batch_normalization (tfcore/ops/layers_core.py, layers_conv.py, layers_norm.py)."""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.layers_conv import *
from tfcore.ops.layers_core import *
from tfcore.ops.layers_norm import *
