"""Recurrent cells (`tf.nn.rnn_cell`): the `RNNCell` base, `BasicRNNCell`, `GRUCell`, `MultiRNNCell`
and the nested-structure helpers the loops use. The LSTM cells are in rnn_cells_lstm.py, the
wrappers (DropoutWrapper, ...) in rnn_cell_wrappers.py, the loops over time in rnn_ops.py.

A cell is one time step: `output, new_state = cell(inputs, state)`. Nothing here is a new op: a
cell's weights are variables made with `get_variable` and its step is ordinary ops (MatMul, BiasAdd,
Sigmoid, Tanh, ...), so gradients through time come from the ops' own gradients.

Variable names are TF1's. On its first call a cell opens the variable scope `scope` when given, else
its own name made unique in the scope around it (`rnn/basic_lstm_cell`, `rnn/basic_lstm_cell_1`,
...; the name is the class name in snake case), creates its variables there (`.../kernel`,
`.../bias`) and keeps that scope: every later call re-enters it and uses the same variables, wherever
it is called from. A wrapper opens no scope of its own.
"""

import re
from collections import namedtuple

from tfcore.framework import dtypes
from tfcore.framework.constant_folding import constant_value
from tfcore.framework.graph import Tensor, convert_to_tensor, is_tensor
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops, elementwise_ops, join_ops, math_ops, nn_ops
from tfcore.ops.init_ops import constant_initializer, zeros_initializer
from tfcore.ops.scopes import get_variable, name_scope, variable_scope

# Public names; tfcore/rnn_cell.py and tfcore/contrib/rnn.py export them.
__all__ = [
    "RNNCell",
    "LayerRNNCell",
    "LSTMStateTuple",
    "BasicRNNCell",
    "GRUCell",
    "MultiRNNCell",
]


# ================================================================================================
# Nested structures: states are tensors, tuples of tensors, LSTMStateTuples, tuples of those
# ================================================================================================


def is_sequence(value):
    """True for the containers a nested state is made of (tuples, namedtuples, lists)."""
    return isinstance(value, tuple | list)


def flatten(structure):
    """The leaves of a nested structure, depth first, left to right."""
    if not is_sequence(structure):
        return [structure]
    return [leaf for item in structure for leaf in flatten(item)]


def rebuild_like(like, items):
    """A container of `like`'s kind (namedtuple, tuple or list) holding `items`."""
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items)


def pack_sequence_as(structure, flat):
    """`flat` (a list of leaves) put back into the shape of `structure`."""
    leaves = iter(flat)

    def pack(node):
        return rebuild_like(node, [pack(item) for item in node]) if is_sequence(node) else next(leaves)
    return pack(structure)


def map_structure(fn, *structures):
    """fn applied leaf by leaf to structures of the same shape, in the shape of the first."""
    flats = [flatten(s) for s in structures]
    if any(len(f) != len(flats[0]) for f in flats):
        raise ValueError(f"The structures {structures} do not have the same number of elements.")
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])


# ================================================================================================
# The cell base class
# ================================================================================================


class LSTMStateTuple(namedtuple("LSTMStateTuple", ("c", "h"))):
    """An LSTM's state: the cell state `c` and the output (hidden state) `h`, each [batch, units]."""

    __slots__ = ()

    @property
    def dtype(self):
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


def _snake_case(class_name):
    """A layer's default name as TF makes it: "BasicLSTMCell" -> "basic_lstm_cell"."""
    words = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


def _zeros(batch_size, size, dtype):
    """Zeros [batch_size, *size] (batch_size an int or a scalar tensor), with the static shape set."""
    size = TensorShape(size if is_sequence(size) or isinstance(size, TensorShape) else [size]).as_list()
    static_batch = batch_size if isinstance(batch_size, int) else None
    if is_tensor(batch_size):
        known = constant_value(batch_size)
        static_batch = None if known is None else int(known)
        batch_size = convert_to_tensor(batch_size, dtype=dtypes.int32)
    zeros = array_ops.zeros([batch_size, *size], dtype=dtype)
    zeros.set_shape([static_batch, *size])
    return zeros


class RNNCell:
    """One step of a recurrent network: `output, new_state = cell(inputs, state)`.

    Subclasses give `state_size` and `output_size` (an int, or a nested tuple of them), `build(
    inputs_shape)` (make the variables, with `add_variable`) and `call(inputs, state)` (the step).
    """

    def __init__(self, trainable=True, name=None, dtype=None, reuse=None, **kwargs):
        self._trainable = trainable
        self._base_name = name or _snake_case(type(self).__name__)
        self._dtype = None if dtype is None else dtypes.as_dtype(dtype).base_dtype
        self._reuse = reuse
        self._scope = None
        self._variables = []
        self.built = False

    @property
    def state_size(self):
        """The size of the state: an int, a TensorShape, or a nested tuple of them."""
        raise NotImplementedError(f"{type(self).__name__} must define state_size")

    @property
    def output_size(self):
        """The size of the output (an int, or a nested tuple of them)."""
        raise NotImplementedError(f"{type(self).__name__} must define output_size")

    name = property(lambda self: self._base_name)
    dtype = property(lambda self: self._dtype)
    scope_name = property(lambda self: None if self._scope is None else self._scope.name)
    variables = weights = property(lambda self: list(self._variables))
    trainable_variables = trainable_weights = property(
        lambda self: [v for v in self._variables if v.trainable])

    def build(self, inputs_shape):
        """Make the cell's variables, once, from the shape of the first inputs (none by default)."""

    def call(self, inputs, state):
        """One step: (output, new_state)."""
        raise NotImplementedError(f"{type(self).__name__} must define call(inputs, state)")

    def add_variable(self, name, shape, dtype=None, initializer=None, trainable=True):
        """A variable `<cell scope>/<name>` of the cell's dtype (TF's Layer.add_variable)."""
        var = get_variable(name, shape=shape, dtype=dtype or self._dtype, initializer=initializer,
                           trainable=trainable and self._trainable)
        self._variables.append(var)
        return var

    add_weight = add_variable

    def __call__(self, inputs, state, scope=None):
        """Run one step in the cell's variable scope (opened and kept on the first call)."""
        if self._scope is None:
            if scope is not None:
                opened = variable_scope(scope, reuse=self._reuse)
            elif self._reuse:
                opened = variable_scope(self._base_name, reuse=True)
            else:
                opened = variable_scope(None, default_name=self._base_name)
        else:
            opened = variable_scope(self._scope, reuse=True)
        with opened as captured:
            self._scope = captured
            inputs = map_structure(convert_to_tensor, inputs)
            if not self.built:
                inputs_for_build = flatten(inputs)[0]
                if self._dtype is None and isinstance(inputs_for_build, Tensor):
                    self._dtype = inputs_for_build.dtype.base_dtype
                shapes = map_structure(lambda x: convert_to_tensor(x).get_shape(), inputs)
                self.build(shapes)
                self.built = True
            return self.call(inputs, state)

    def zero_state(self, batch_size, dtype):
        """A state of zeros for `batch_size` sequences, in the structure of `state_size`."""
        with name_scope(type(self).__name__ + "ZeroState"):
            sizes = self.state_size
            if not is_sequence(sizes):
                return _zeros(batch_size, sizes, dtype)
            return pack_sequence_as(sizes, [_zeros(batch_size, s, dtype) for s in flatten(sizes)])


LayerRNNCell = RNNCell  # TF1 keeps both names; here a cell is always a layer


def check_rnn_cell(cell, where, argument="cell"):
    """TypeError unless `cell` looks like an RNNCell (output_size, state_size, zero_state, callable)."""
    missing = [a for a in ("output_size", "state_size", "zero_state") if not hasattr(cell, a)]
    if missing or not callable(cell):
        raise TypeError(f"{where}: the argument {argument!r} ({cell!r}) is not an RNNCell: "
                        f"{'not callable' if not missing else 'it has no ' + ', '.join(missing)}.")


def input_depth(inputs_shape, cell_name):
    """The last dimension of the first inputs, which must be known to size the kernel."""
    if inputs_shape.ndims is None or inputs_shape[-1].value is None:
        raise ValueError(f"{cell_name}: expected inputs.shape[-1] to be known, saw shape: {inputs_shape}")
    return inputs_shape[-1].value


def linear(inputs, state, kernel, bias):
    """concat([inputs, state], 1) @ kernel + bias: the affine map every cell's gates start from."""
    return nn_ops.bias_add(math_ops.matmul(join_ops.concat([inputs, state], 1), kernel), bias)


# ================================================================================================
# BasicRNNCell and GRUCell
# ================================================================================================


class BasicRNNCell(RNNCell):
    """output = new_state = activation([inputs, state] @ kernel + bias) (tanh by default).

    kernel: [input_depth + num_units, num_units]; bias: [num_units], zeros.
    """

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = activation or elementwise_ops.tanh

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, type(self).__name__)
        self._kernel = self.add_variable("kernel", [depth + self._num_units, self._num_units])
        self._bias = self.add_variable("bias", [self._num_units], initializer=zeros_initializer())

    def call(self, inputs, state):
        output = self._activation(linear(inputs, state, self._kernel, self._bias))
        return output, output


class GRUCell(RNNCell):
    """A gated recurrent unit (Cho et al., 2014):

        r, u = split(sigmoid([x, h] @ gates/kernel + gates/bias), 2)      (reset, update)
        c = activation([x, r * h] @ candidate/kernel + candidate/bias)
        new_h = u * h + (1 - u) * c

    gates/kernel: [depth + units, 2 units], gates/bias ones (so the gates start open);
    candidate/kernel: [depth + units, units], candidate/bias zeros.
    """

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = activation or elementwise_ops.tanh
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        depth = input_depth(inputs_shape, type(self).__name__)
        units = self._num_units
        init = self._kernel_initializer
        self._gate_kernel = self.add_variable("gates/kernel", [depth + units, 2 * units], initializer=init)
        self._gate_bias = self.add_variable("gates/bias", [2 * units], initializer=(
            self._bias_initializer or constant_initializer(1.0)))
        self._candidate_kernel = self.add_variable("candidate/kernel", [depth + units, units],
                                                   initializer=init)
        self._candidate_bias = self.add_variable("candidate/bias", [units], initializer=(
            self._bias_initializer or zeros_initializer()))

    def call(self, inputs, state):
        gates = elementwise_ops.sigmoid(linear(inputs, state, self._gate_kernel, self._gate_bias))
        reset, update = join_ops.split(gates, 2, axis=1)
        candidate = self._activation(linear(inputs, math_ops.multiply(reset, state),
                                            self._candidate_kernel, self._candidate_bias))
        one = convert_to_tensor(1, dtype=update.dtype.base_dtype)
        new_h = math_ops.add(math_ops.multiply(update, state),
                             math_ops.multiply(math_ops.subtract(one, update), candidate))
        return new_h, new_h


# ================================================================================================
# MultiRNNCell: cells stacked, each one's output the next one's input
# ================================================================================================


class MultiRNNCell(RNNCell):
    """Cells on top of each other: cell i (in variable scope `cell_i`) reads cell i-1's output.

    The state is the tuple of the cells' states (state_is_tuple=True), or their concatenation along
    axis 1 (state_is_tuple=False, for cells whose states are flat).
    """

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not state_is_tuple and any(is_sequence(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not "
                             f"set. State sizes are: {[c.state_size for c in cells]}")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    @property
    def state_size(self):
        sizes = tuple(cell.state_size for cell in self._cells)
        return sizes if self._state_is_tuple else sum(sizes)

    output_size = property(lambda self: self._cells[-1].output_size)

    def zero_state(self, batch_size, dtype):
        """The tuple of each cell's zero state (or their concatenation)."""
        if not self._state_is_tuple:
            return super().zero_state(batch_size, dtype)
        with name_scope(type(self).__name__ + "ZeroState"):
            return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)

    def _cell_states(self, state):
        """The state of each cell: tuple items, or columns of the concatenated state."""
        if self._state_is_tuple:
            if not is_sequence(state) or len(state) != len(self._cells):
                raise ValueError(f"Expected state to be a tuple of length {len(self._cells)}, but "
                                 f"received: {state}")
            return list(state)
        sizes = [cell.state_size for cell in self._cells]
        return join_ops.split(state, sizes, axis=1)

    def call(self, inputs, state):
        layer_input, new_states = inputs, []
        for i, (cell, cell_state) in enumerate(zip(self._cells, self._cell_states(state))):
            with variable_scope(f"cell_{i}"):
                layer_input, new_state = cell(layer_input, cell_state)
            new_states.append(new_state)
        if self._state_is_tuple:
            return layer_input, tuple(new_states)
        return layer_input, join_ops.concat(new_states, 1)
