"""`tf.nn`: the neural-network ops (activations, convolution, pooling, losses on logits).

A namespace only: the op blocks live in tfcore/ops/activation_ops.py, xent_ops.py, nn_ops.py and
conv_ops.py (their `__all__` lists are what appears here), and in tfcore/ops/elementwise_ops.py for
sigmoid and tanh.
"""

# ruff: noqa: F403 - this module re-exports

from tfcore import rnn_cell  # noqa: F401 - tf.nn.rnn_cell
from tfcore.ops.activation_ops import *
from tfcore.ops.conv_ops import *
from tfcore.ops.elementwise_ops import sigmoid, tanh  # noqa: F401 - math ops that tf.nn shows too
from tfcore.ops.layers_nn import *
from tfcore.ops.nn_ops import *
from tfcore.ops.rnn_ops import *
from tfcore.ops.xent_ops import *
