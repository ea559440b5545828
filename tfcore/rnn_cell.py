"""`tf.nn.rnn_cell`: the recurrent cells (tfcore/ops/rnn_cell_ops.py, rnn_cells_lstm.py and
rnn_cell_wrappers.py; their `__all__` lists are what appears here)."""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.rnn_cell_ops import *
from tfcore.ops.rnn_cell_wrappers import *
from tfcore.ops.rnn_cells_lstm import *
