"""`tf.contrib.rnn`: the recurrent cells of `tf.nn.rnn_cell` and the static loops (`static_rnn`,
`static_bidirectional_rnn`); `dynamic_rnn` is `tf.nn.dynamic_rnn` (tfcore/ops/rnn_ops.py)."""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.rnn_ops import static_bidirectional_rnn, static_rnn  # noqa: F401
from tfcore.rnn_cell import *
