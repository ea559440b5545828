"""Cell wrappers (`tf.nn.rnn_cell`): another cell's step with something around it.

`DropoutWrapper` (dropout on inputs, outputs and state), `ResidualWrapper` (inputs added to the
outputs) and `DeviceWrapper` (the cell's ops on a device). A wrapper opens no variable scope of its
own: the wrapped cell's variables keep their names (`rnn/basic_lstm_cell/kernel`).
"""

import zlib

from tfcore.framework.constant_folding import constant_value
from tfcore.framework.graph import is_tensor
from tfcore.ops import math_ops, nn_ops
from tfcore.ops.rnn_cell_ops import (
    LSTMStateTuple,
    RNNCell,
    check_rnn_cell,
    flatten,
    is_sequence,
    map_structure,
    pack_sequence_as,
    rebuild_like,
)
from tfcore.ops.scopes import device, name_scope

# Public names; tfcore/rnn_cell.py and tfcore/contrib/rnn.py export them.
__all__ = ["DropoutWrapper", "ResidualWrapper", "DeviceWrapper"]


# ================================================================================================
# Wrappers: another cell's step with something around it (no variable scope of their own)
# ================================================================================================


class _Wrapper(RNNCell):
    """A cell around `cell`: the same sizes and zero state; __call__ runs `cell` itself."""

    def __init__(self, cell):
        check_rnn_cell(cell, type(self).__name__)
        super().__init__()
        self._cell = cell

    cell = property(lambda self: self._cell)
    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)
    variables = weights = property(lambda self: self._cell.variables)
    trainable_variables = trainable_weights = property(lambda self: self._cell.trainable_variables)

    def zero_state(self, batch_size, dtype):
        with name_scope(type(self).__name__ + "ZeroState"):
            return self._cell.zero_state(batch_size, dtype)


def _keep_state_c(substate):
    """DropoutWrapper's default state filter: drop an LSTM's h, never its cell state c."""
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    return True


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and new state (`tf.nn.dropout` with each keep probability;
    a keep probability of 1 adds no op). The state filter (default: every part but an LSTM's c)
    picks which parts of the state are dropped. variational_recurrent=True is not supported.
    """

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None,
                 dropout_state_filter_visitor=None):
        super().__init__(cell)
        if variational_recurrent:
            raise NotImplementedError("DropoutWrapper(variational_recurrent=True) is not supported by "
                                      "tfcore: the same mask at every time step is not implemented.")
        for label, prob in (("input_keep_prob", input_keep_prob), ("output_keep_prob", output_keep_prob),
                            ("state_keep_prob", state_keep_prob)):
            value = constant_value(prob) if is_tensor(prob) else prob
            if value is not None and not 0 < float(value) <= 1:
                raise ValueError(f"Parameter {label} must be between 0 and 1: {float(value)}")
        self._input_keep_prob = input_keep_prob
        self._output_keep_prob = output_keep_prob
        self._state_keep_prob = state_keep_prob
        self._seed = seed
        self._state_filter = dropout_state_filter_visitor or _keep_state_c

    def _dropout(self, values, keep_prob, salt):
        """Each leaf of `values` through tf.nn.dropout (its own seed, derived from `seed`)."""
        leaves = [nn_ops.dropout(v, keep_prob=keep_prob, seed=None if self._seed is None else
                                 zlib.crc32(f"{self._seed}_{salt}_{i}".encode()) % (2 ** 31))
                  for i, v in enumerate(flatten(values))]
        return pack_sequence_as(values, leaves)

    def _dropout_state(self, state, keep_prob, salt="state"):
        """Dropout on the parts of `state` the filter picks (True: all of it, or go inside; False:
        none; a structure of booleans: part by part)."""
        decision = self._state_filter(state)
        if decision is False:
            return state
        if decision is True:
            if not is_sequence(state):
                return self._dropout(state, keep_prob, salt)
            return rebuild_like(state, [self._dropout_state(s, keep_prob, f"{salt}_{i}")
                                    for i, s in enumerate(state)])
        return rebuild_like(state, [self._dropout(s, keep_prob, f"{salt}_{i}") if keep else s
                                for i, (s, keep) in enumerate(zip(state, decision))])

    def __call__(self, inputs, state, scope=None):
        """The wrapped cell's step, with dropout where a keep probability is below 1."""
        if _may_drop(self._input_keep_prob):
            inputs = self._dropout(inputs, self._input_keep_prob, "input")
        output, new_state = self._cell(inputs, state, scope=scope)
        if _may_drop(self._state_keep_prob):
            new_state = self._dropout_state(new_state, self._state_keep_prob)
        if _may_drop(self._output_keep_prob):
            output = self._dropout(output, self._output_keep_prob, "output")
        return output, new_state


def _may_drop(keep_prob):
    """False only for a keep probability known to be 1."""
    value = constant_value(keep_prob) if is_tensor(keep_prob) else keep_prob
    return value is None or float(value) != 1.0


class ResidualWrapper(_Wrapper):
    """output = inputs + cell's output (or residual_fn(inputs, output)); the state is the cell's."""

    def __init__(self, cell, residual_fn=None):
        super().__init__(cell)
        self._residual_fn = residual_fn

    def __call__(self, inputs, state, scope=None):
        """The wrapped cell's step with its inputs added to its output."""
        output, new_state = self._cell(inputs, state, scope=scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, output), new_state
        return map_structure(math_ops.add, inputs, output), new_state


class DeviceWrapper(_Wrapper):
    """The wrapped cell's ops built on `device` ("/gpu:0", ...)."""

    def __init__(self, cell, device):
        super().__init__(cell)
        self._device = device

    def zero_state(self, batch_size, dtype):
        with device(self._device):
            return super().zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        """The wrapped cell's step under tf.device."""
        with device(self._device):
            return self._cell(inputs, state, scope=scope)
