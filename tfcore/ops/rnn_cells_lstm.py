"""The LSTM cells of `tf.nn.rnn_cell`: `BasicLSTMCell` and `LSTMCell` (peepholes, projection, clipping).

Both compute their four gates from one matrix product, in TF's order and layout, so that weights
copied from TensorFlow give TensorFlow's numbers:

    i, j, f, o = split(concat([x, h], 1) @ kernel + bias, 4, axis=1)
    new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * activation(j)
    new_h = activation(new_c) * sigmoid(o)

(i: input gate, j: new input, f: forget gate, o: output gate; kernel [depth + units, 4 units].)
The state is an `LSTMStateTuple(c, h)`, or with state_is_tuple=False the concatenation [c, h].
"""

from tfcore.framework.graph import convert_to_tensor
from tfcore.ops import clip_ops, elementwise_ops, join_ops, math_ops
from tfcore.ops.init_ops import zeros_initializer
from tfcore.ops.rnn_cell_ops import LSTMStateTuple, RNNCell, input_depth, linear
from tfcore.platform import tf_logging

# Public names; tfcore/rnn_cell.py and tfcore/contrib/rnn.py export them.
__all__ = ["BasicLSTMCell", "LSTMCell"]


def _split_state(cell, state, c_size):
    """(c, h) from an LSTMStateTuple (or any pair), or from the concatenated [c, h]."""
    if cell._state_is_tuple:
        c, h = state
        return c, h
    return join_ops.split(state, [c_size, -1], axis=1)


def _join_state(cell, c, h):
    return LSTMStateTuple(c, h) if cell._state_is_tuple else join_ops.concat([c, h], 1)


def _scalar(value, like):
    """A constant scalar of `like`'s dtype."""
    return convert_to_tensor(value, dtype=like.dtype.base_dtype)


class BasicLSTMCell(RNNCell):
    """The basic LSTM (Hochreiter & Schmidhuber, 1997; Zaremba et al., 2014): no peepholes, no
    projection, no clipping. `forget_bias` (1.0 by default) is added to the forget gate's input, so
    that an untrained cell starts by remembering.

    Variables: `basic_lstm_cell/kernel` [depth + units, 4 units], `basic_lstm_cell/bias` [4 units]
    (zeros).
    """

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None,
                 name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, reuse=reuse, **kwargs)
        if not state_is_tuple:
            tf_logging.warning("%s: Using a concatenated state is slower and will soon be deprecated. "
                               "Use state_is_tuple=True.", self)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or elementwise_ops.tanh

    @property
    def state_size(self):
        units = self._num_units
        return LSTMStateTuple(units, units) if self._state_is_tuple else 2 * units

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, type(self).__name__)
        units = self._num_units
        self._kernel = self.add_variable("kernel", [depth + units, 4 * units])
        self._bias = self.add_variable("bias", [4 * units], initializer=zeros_initializer())

    def call(self, inputs, state):
        c, h = _split_state(self, state, self._num_units)
        gates = linear(inputs, h, self._kernel, self._bias)
        i, j, f, o = join_ops.split(gates, 4, axis=1)
        sigmoid, act = elementwise_ops.sigmoid, self._activation
        forget = sigmoid(math_ops.add(f, _scalar(self._forget_bias, f)))
        new_c = math_ops.add(math_ops.multiply(c, forget), math_ops.multiply(sigmoid(i), act(j)))
        new_h = math_ops.multiply(act(new_c), sigmoid(o))
        return new_h, _join_state(self, new_c, new_h)


class LSTMCell(RNNCell):
    """The LSTM with TF1's options (Hochreiter & Schmidhuber, 1997; peepholes from Gers & Schmidhuber,
    2000; projection from Sak et al., 2014):

    use_peepholes: the gates also see the cell state, through diagonal weights w_f_diag, w_i_diag
        (on the old c) and w_o_diag (on the new c):
        new_c = sigmoid(f + forget_bias + w_f_diag * c) * c + sigmoid(i + w_i_diag * c) * act(j),
        m = sigmoid(o + w_o_diag * new_c) * act(new_c)
    cell_clip: new_c clipped to [-cell_clip, cell_clip] before the output gate.
    num_proj: the output m is projected, m @ projection/kernel [units, num_proj] (clipped to
        [-proj_clip, proj_clip] when proj_clip is given); the state is (c, m).
    initializer: for the kernel, the peephole weights and the projection (default: the scope's, else
        Glorot uniform). The bias starts at zeros.

    Variables: `lstm_cell/kernel` [depth + h, 4 units] (h = num_proj or units), `lstm_cell/bias`,
    `lstm_cell/w_f_diag`, `w_i_diag`, `w_o_diag`, `lstm_cell/projection/kernel`. The deprecated
    sharding arguments (num_unit_shards, num_proj_shards) are not supported.
    """

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None, num_proj=None,
                 proj_clip=None, num_unit_shards=None, num_proj_shards=None, forget_bias=1.0,
                 state_is_tuple=True, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, reuse=reuse, **kwargs)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("LSTMCell: num_unit_shards and num_proj_shards (deprecated in TF1) "
                                      "are not supported by tfcore.")
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or elementwise_ops.tanh

    @property
    def state_size(self):
        h_size = self._num_proj or self._num_units
        if self._state_is_tuple:
            return LSTMStateTuple(self._num_units, h_size)
        return self._num_units + h_size

    output_size = property(lambda self: self._num_proj or self._num_units)

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, type(self).__name__)
        units, h_size, init = self._num_units, self._num_proj or self._num_units, self._initializer
        self._kernel = self.add_variable("kernel", [depth + h_size, 4 * units], initializer=init)
        self._bias = self.add_variable("bias", [4 * units], initializer=zeros_initializer())
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", [units], initializer=init)
            self._w_i_diag = self.add_variable("w_i_diag", [units], initializer=init)
            self._w_o_diag = self.add_variable("w_o_diag", [units], initializer=init)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable("projection/kernel", [units, self._num_proj],
                                                  initializer=init)

    def _clip(self, x, bound):
        return clip_ops.clip_by_value(x, -bound, bound)

    def call(self, inputs, state):
        c_prev, m_prev = _split_state(self, state, self._num_units)
        gates = linear(inputs, m_prev, self._kernel, self._bias)
        i, j, f, o = join_ops.split(gates, 4, axis=1)
        sigmoid, act, add, mul = elementwise_ops.sigmoid, self._activation, math_ops.add, math_ops.multiply
        f = add(f, _scalar(self._forget_bias, f))
        if self._use_peepholes:
            f = add(f, mul(self._w_f_diag, c_prev))
            i = add(i, mul(self._w_i_diag, c_prev))
        c = add(mul(sigmoid(f), c_prev), mul(sigmoid(i), act(j)))
        if self._cell_clip is not None:
            c = self._clip(c, self._cell_clip)
        if self._use_peepholes:
            o = add(o, mul(self._w_o_diag, c))
        m = mul(sigmoid(o), act(c))
        if self._num_proj is not None:
            m = math_ops.matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = self._clip(m, self._proj_clip)
        return m, _join_state(self, c, m)
