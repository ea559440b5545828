"""`tf.nn`: the neural-network ops (activations, convolution, pooling, losses on logits).

A namespace only: the op blocks live in tfcore/ops/nn_ops.py and tfcore/ops/conv_ops.py (their
`__all__` lists are what appears here), and in tfcore/ops/math_ops.py for sigmoid and tanh.
"""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.conv_ops import *
from tfcore.ops.math_ops import sigmoid, tanh  # noqa: F401 - math ops that tf.nn shows too
from tfcore.ops.nn_ops import *
