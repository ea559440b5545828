"""Recurrent networks over time: `static_rnn`, `dynamic_rnn` and the bidirectional versions.

A recurrent network applies one cell (rnn_cell_ops.py) at every time step, passing the state on:
`output_t, state_t = cell(input_t, state_{t-1})`. TF1's `dynamic_rnn` builds a `while_loop` over the
time steps; tfcore has no `while_loop` (out of scope in TF1_API.md), so here **both `static_rnn` and
`dynamic_rnn` unroll the loop**: the graph holds one copy of the cell's ops per time step, all using
the same variables. The numbers, the variable names and the gradients are TF's; what differs is that
the number of time steps must be known when the graph is built (a placeholder of shape
[batch, None, depth] is a ValueError naming dynamic_rnn: give it a fixed number of steps, padding the
shorter sequences and passing `sequence_length`).

With `sequence_length` (one length per sequence of the batch), as in TF: past its length a
sequence's outputs are zeros and its state stays what it was at its last step, so the final state is
each sequence's state at its own last step. Gradients through time come from the ops' gradients
(MatMul, Sigmoid, Select, Pack, ...); no op here has a rule of its own.
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import convert_to_tensor
from tfcore.ops import (
    array_ops,
    comparison_ops,
    dimension_ops,
    gather_ops,
    index_ops,
    join_ops,
    math_ops,
    slicing_ops,
)
from tfcore.ops.constant_op import constant
from tfcore.ops.rnn_cell_ops import check_rnn_cell, flatten, is_sequence, map_structure, pack_sequence_as
from tfcore.ops.scopes import name_scope, variable_scope

# Public names, exported as tf.nn.<name> (static_rnn also as tf.contrib.rnn.static_rnn).
__all__ = ["static_rnn", "static_bidirectional_rnn", "dynamic_rnn", "bidirectional_dynamic_rnn"]


# ================================================================================================
# The unrolled loop, shared by static_rnn and dynamic_rnn
# ================================================================================================


def _batch_size(first_step):
    """The batch size of one time step's inputs: an int when known at build time, else a tensor."""
    leaf = flatten(first_step)[0]
    static = leaf.get_shape()[0].value if leaf.get_shape().ndims else None
    return static if static is not None else array_ops.shape(leaf)[0]


def _initial_state(cell, initial_state, dtype, batch_size, where):
    """The state before the first step: `initial_state`, else the cell's zeros of `dtype`."""
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError(f"{where}: if there is no initial_state, you must give a dtype.")
    return cell.zero_state(batch_size, dtypes.as_dtype(dtype))


def _sequence_length(sequence_length, where):
    """`sequence_length` as an int32 vector (one length per sequence), named "sequence_length"."""
    if sequence_length is None:
        return None
    lengths = math_ops.cast(convert_to_tensor(sequence_length), dtypes.int32)
    if lengths.get_shape().ndims not in (None, 1):
        raise ValueError(f"{where}: sequence_length must be a vector of length batch_size, but saw "
                         f"shape: {lengths.get_shape()}")
    return array_ops.identity(lengths, name="sequence_length")


def _mask_step(time, lengths, output, new_state, old_state):
    """Past a sequence's length (time >= length): zeros for its output, and its old state kept.

    `where` with a condition vector picks whole rows (one per sequence of the batch).
    """
    finished = comparison_ops.greater_equal(constant(time, dtypes.int32), lengths)
    output = map_structure(lambda o: comparison_ops.where(finished, array_ops.zeros_like(o), o), output)
    new_state = map_structure(lambda old, new: comparison_ops.where(finished, old, new),
                              old_state, new_state)
    return output, new_state


def _unroll(cell, steps, state, lengths, varscope):
    """Run `cell` over the list of per-step inputs: (list of outputs, final state)."""
    outputs = []
    for time, step_input in enumerate(steps):
        if time > 0:
            varscope.reuse_variables()  # cells that call get_variable at every step share them too
        output, new_state = cell(step_input, state)
        if lengths is not None:
            output, new_state = _mask_step(time, lengths, output, new_state, state)
        outputs.append(output)
        state = new_state
    return outputs, state


# ================================================================================================
# static_rnn: inputs as a Python list, one entry per time step
# ================================================================================================


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Apply `cell` to each input of the list `inputs` (each [batch, depth]) in order.

    Returns (outputs, state): the list of outputs (each [batch, output_size]) and the final state.
    Variables are made in the variable scope `scope` (default "rnn"), so a BasicLSTMCell's kernel
    is `rnn/basic_lstm_cell/kernel`. initial_state defaults to the cell's zeros of `dtype`.
    """
    check_rnn_cell(cell, "static_rnn")
    if not is_sequence(inputs):
        raise TypeError("static_rnn: inputs must be a sequence (a list of tensors, one per time step)")
    if not inputs:
        raise ValueError("static_rnn: inputs must not be empty")
    with variable_scope(scope or "rnn") as varscope:
        steps = [map_structure(convert_to_tensor, x) for x in inputs]
        state = _initial_state(cell, initial_state, dtype, _batch_size(steps[0]), "static_rnn")
        lengths = _sequence_length(sequence_length, "static_rnn")
        return _unroll(cell, steps, state, lengths, varscope)


# ================================================================================================
# dynamic_rnn: inputs as one tensor [batch, time, depth] (or [time, batch, depth]), unrolled
# ================================================================================================


def _count_time_steps(inputs, time_major, where):
    """The number of time steps of `inputs`, which must be known at build time (tfcore unrolls)."""
    time_axis = 0 if time_major else 1
    counts = set()
    for x in flatten(inputs):
        shape = convert_to_tensor(x).get_shape()
        if shape.ndims is not None and shape.ndims < 2:
            raise ValueError(f"{where}: inputs must have rank at least 2 ([batch, time, ...] or "
                             f"[time, batch, ...]), got shape {shape}")
        steps = shape[time_axis].value if shape.ndims is not None else None
        if steps is None:
            raise ValueError(
                f"{where}: the number of time steps (dimension {time_axis} of inputs of shape {shape}) "
                "must be known when the graph is built. tfcore has no while_loop and unrolls "
                "dynamic_rnn over the time steps: give the inputs a fixed number of steps (pad the "
                "shorter sequences and pass sequence_length).")
        counts.add(steps)
    if len(counts) > 1:
        raise ValueError(f"{where}: all inputs must have the same number of time steps, got {sorted(counts)}")
    if counts == {0}:
        raise ValueError(f"{where}: the inputs have no time steps (dimension {time_axis} is 0)")
    return counts.pop()


def _time_steps(inputs, time_major, where):
    """The inputs cut into a list of time steps (each a structure of [batch, ...] tensors)."""
    count = _count_time_steps(inputs, time_major, where)
    per_leaf = [join_ops.unstack(convert_to_tensor(x), axis=0 if time_major else 1) for x in flatten(inputs)]
    return [pack_sequence_as(inputs, [leaf[t] for leaf in per_leaf]) for t in range(count)]


def _stack_steps(outputs, time_major):
    """A list of per-step output structures stacked along the time axis, leaf by leaf."""
    flat = [flatten(o) for o in outputs]
    axis = 0 if time_major else 1
    stacked = [join_ops.stack([step[k] for step in flat], axis=axis) for k in range(len(flat[0]))]
    return pack_sequence_as(outputs[0], stacked)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """Apply `cell` along the time axis of `inputs` ([batch, time, depth], or [time, batch, depth]
    when time_major): returns (outputs, state), outputs stacked in the inputs' layout
    ([batch, time, output_size]) and the final state.

    tfcore unrolls the time steps (no while_loop): their number must be known at build time, else
    ValueError. With sequence_length, outputs past each sequence's length are zeros and its state
    stays frozen at its last step, as in TF. Variables live in `scope` (default "rnn").
    parallel_iterations and swap_memory (while_loop settings) are accepted and have no effect.
    """
    check_rnn_cell(cell, "dynamic_rnn")
    with variable_scope(scope or "rnn") as varscope:
        steps = _time_steps(inputs, time_major, "dynamic_rnn")
        state = _initial_state(cell, initial_state, dtype, _batch_size(steps[0]), "dynamic_rnn")
        lengths = _sequence_length(sequence_length, "dynamic_rnn")
        outputs, state = _unroll(cell, steps, state, lengths, varscope)
        return _stack_steps(outputs, time_major), state


# ================================================================================================
# Bidirectional: a forward cell, and a backward cell on the time-reversed sequences
# ================================================================================================


def _reverse_sequences(x, lengths):
    """tf.reverse_sequence on time-major x [time, batch, ...] with a known number of time steps:
    sequence b's first lengths[b] steps in reverse order, the padding after them left in place.

    Built from a gather: out[t, b] = x[lengths[b] - 1 - t, b] where t < lengths[b], else x[t, b].
    """
    if lengths is None:
        return slicing_ops.reverse(x, [0])
    with name_scope("ReverseSequence"):
        steps = x.get_shape()[0].value
        shape = array_ops.shape(x)
        batch = shape[1]
        time = array_ops.reshape(index_ops.range(steps), [steps, 1])   # [T, 1]
        length = array_ops.reshape(lengths, [1, -1])                    # [1, B]
        grid = math_ops.add(array_ops.zeros_like(time), array_ops.zeros_like(length))  # zeros [T, B]
        time, length = math_ops.add(time, grid), math_ops.add(length, grid)
        one = constant(1, dtypes.int32)
        source = comparison_ops.where(comparison_ops.less(time, length),
                                      math_ops.subtract(math_ops.subtract(length, one), time), time)
        column = math_ops.add(array_ops.reshape(index_ops.range(batch), [1, -1]), grid)
        flat_index = array_ops.reshape(math_ops.add(math_ops.multiply(source, batch), column), [-1])
        rows = array_ops.reshape(x, join_ops.concat([constant([-1], dtypes.int32), shape[2:]], 0))
        out = array_ops.reshape(gather_ops.gather(rows, flat_index), shape)
        out.set_shape(x.get_shape())
        return out


def _reverse_time(structure, lengths, time_major):
    """Each leaf of `structure` reversed in time (per sequence when lengths are given)."""
    def reverse(x):
        if time_major:
            return _reverse_sequences(x, lengths)
        rank = x.get_shape().ndims
        perm = [1, 0, *range(2, rank)]
        return dimension_ops.transpose(_reverse_sequences(dimension_ops.transpose(x, perm), lengths), perm)
    return map_structure(reverse, structure)


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None, initial_state_fw=None,
                              initial_state_bw=None, dtype=None, parallel_iterations=None,
                              swap_memory=False, time_major=False, scope=None):
    """dynamic_rnn forwards with cell_fw (scope `<scope>/fw`) and backwards with cell_bw (scope
    `<scope>/bw`, on the inputs reversed in time, per sequence when sequence_length is given; its
    outputs reversed back). scope defaults to "bidirectional_rnn".

    Returns ((output_fw, output_bw), (state_fw, state_bw)); unrolled like dynamic_rnn.
    """
    check_rnn_cell(cell_fw, "bidirectional_dynamic_rnn", "cell_fw")
    check_rnn_cell(cell_bw, "bidirectional_dynamic_rnn", "cell_bw")
    _count_time_steps(inputs, time_major, "bidirectional_dynamic_rnn")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = dynamic_rnn(cell_fw, inputs, sequence_length, initial_state_fw, dtype,
                                              time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            lengths = _sequence_length(sequence_length, "bidirectional_dynamic_rnn")
            reversed_inputs = _reverse_time(inputs, lengths, time_major)
            reversed_output, state_bw = dynamic_rnn(cell_bw, reversed_inputs, lengths, initial_state_bw,
                                                    dtype, time_major=time_major, scope=bw_scope)
        output_bw = _reverse_time(reversed_output, lengths, time_major)
        return (output_fw, output_bw), (state_fw, state_bw)


def static_bidirectional_rnn(cell_fw, cell_bw, inputs, initial_state_fw=None, initial_state_bw=None,
                             dtype=None, sequence_length=None, scope=None):
    """static_rnn forwards (scope `<scope>/fw`) and on the reversed list of inputs (`<scope>/bw`);
    each step's output is concat([output_fw, output_bw], 1). scope defaults to "bidirectional_rnn".

    Returns (outputs, state_fw, state_bw).
    """
    check_rnn_cell(cell_fw, "static_bidirectional_rnn", "cell_fw")
    check_rnn_cell(cell_bw, "static_bidirectional_rnn", "cell_bw")
    if not is_sequence(inputs) or not inputs:
        raise TypeError("static_bidirectional_rnn: inputs must be a non-empty list of tensors")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                             scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            lengths = _sequence_length(sequence_length, "static_bidirectional_rnn")
            reversed_inputs = _reverse_nested_list([map_structure(convert_to_tensor, x) for x in inputs],
                                                   lengths)
            tmp, state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, lengths,
                                       scope=bw_scope)
        output_bw = _reverse_nested_list(tmp, lengths)
        outputs = [map_structure(lambda fw, bw: join_ops.concat([fw, bw], 1), fw, bw)
                   for fw, bw in zip(output_fw, output_bw)]
        return outputs, state_fw, state_bw


def _reverse_nested_list(steps, lengths):
    """A list of per-step structures reversed in time (per sequence when lengths are given)."""
    stacked = _stack_steps(list(steps), time_major=True)
    reversed_stack = map_structure(lambda x: _reverse_sequences(x, lengths), stacked)
    flat = [join_ops.unstack(x) for x in flatten(reversed_stack)]
    return [pack_sequence_as(steps[0], [leaf[t] for leaf in flat]) for t in range(len(steps))]
