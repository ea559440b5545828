"""Recurrent networks: the cells of tf.nn.rnn_cell, static_rnn, dynamic_rnn and the bidirectional loop.

Every program runs on each engine (tfcore, and TensorFlow where installed) from the same weights:
after initialisation each trainable variable is loaded with an array drawn from its own name, so
equal variable names give equal weights, and the outputs, states and gradients must then agree.
"""

import zlib

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, numerical_gradient, reference_tf, require_tf, run_in_graph

# TF's cells warn that they are deprecated (in favour of Keras) each time one is made.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")

BATCH, STEPS, DEPTH, UNITS = 3, 4, 5, 6
LENGTHS = np.array([4, 2, 0], np.int32)


def rc(tf):
    """The engine's cells: tf.nn.rnn_cell. TensorFlow 2.21 with Keras 3 refuses that name (the cells
    moved to Keras), so for TensorFlow they come from the module TF1's cells still live in."""
    if tf is tfcore:
        return tf.nn.rnn_cell
    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl
    return rnn_cell_impl


def _weights_for(var):
    """The starting value of a variable, drawn from its name (the same on every engine)."""
    rng = np.random.default_rng(zlib.crc32(var.op.name.encode()))
    shape = var.get_shape().as_list()
    return rng.uniform(-0.5, 0.5, shape).astype(var.dtype.base_dtype.as_numpy_dtype)


def _start(tf, sess):
    sess.run(tf.global_variables_initializer())
    for var in tf.trainable_variables():
        var.load(_weights_for(var), sess)


def _inputs(dtype=np.float32, time_major=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, STEPS, DEPTH)).astype(dtype)
    return np.transpose(x, (1, 0, 2)).copy() if time_major else x


def _leaves(x):
    """The arrays (or tensors) of a nested structure, in order."""
    return [leaf for item in x for leaf in _leaves(item)] if isinstance(x, list | tuple) else [x]


# ------------------------------------------------------------------------------------------------
# The cells
# ------------------------------------------------------------------------------------------------

CELLS = {
    "basic_rnn": lambda tf: rc(tf).BasicRNNCell(UNITS),
    "basic_lstm": lambda tf: rc(tf).BasicLSTMCell(UNITS, forget_bias=0.5),
    "basic_lstm_concat": lambda tf: rc(tf).BasicLSTMCell(UNITS, state_is_tuple=False),
    "lstm": lambda tf: rc(tf).LSTMCell(UNITS),
    "lstm_peep_proj_clip": lambda tf: rc(tf).LSTMCell(UNITS, use_peepholes=True, num_proj=4, cell_clip=0.3,
                                                      proj_clip=0.2),
    "gru": lambda tf: rc(tf).GRUCell(UNITS),
    "multi_lstm": lambda tf: rc(tf).MultiRNNCell(
        [rc(tf).BasicLSTMCell(UNITS), rc(tf).LSTMCell(4, use_peepholes=True)]),
    "dropout_keep1_gru": lambda tf: rc(tf).DropoutWrapper(
        rc(tf).GRUCell(UNITS), input_keep_prob=1.0, output_keep_prob=1.0),
}

def _under(scope, *names):
    return [f"{scope}/{n}" for n in names]


# TensorFlow 2.21's tf.compat.v1 names for a dynamic_rnn of each cell, sorted (written out so that
# the check runs where TensorFlow is missing too).
_GRU = _under("rnn/gru_cell", "candidate/bias", "candidate/kernel", "gates/bias", "gates/kernel")
_PEEPHOLES = ("w_f_diag", "w_i_diag", "w_o_diag")
NAMES = {
    "basic_rnn": _under("rnn/basic_rnn_cell", "bias", "kernel"),
    "basic_lstm": _under("rnn/basic_lstm_cell", "bias", "kernel"),
    "basic_lstm_concat": _under("rnn/basic_lstm_cell", "bias", "kernel"),
    "lstm": _under("rnn/lstm_cell", "bias", "kernel"),
    "lstm_peep_proj_clip": _under("rnn/lstm_cell", "bias", "kernel", "projection/kernel", *_PEEPHOLES),
    "gru": _GRU,
    "multi_lstm": _under("rnn/multi_rnn_cell/cell_0/basic_lstm_cell", "bias", "kernel") + _under(
        "rnn/multi_rnn_cell/cell_1/lstm_cell", "bias", "kernel", *_PEEPHOLES),
    "dropout_keep1_gru": _GRU,
}


def _one_step(tf, cell_name, dtype):
    """Two calls of the cell outside any loop (the second from a state other than zeros): the second
    one's output and new state, and the cell's variables' names."""
    x_value = _inputs(dtype)
    cell = CELLS[cell_name](tf)
    x = tf.placeholder(tf.as_dtype(dtype), x_value.shape)
    _, state = cell(x[:, 0], cell.zero_state(BATCH, tf.as_dtype(dtype)))
    output, new_state = cell(x[:, 1], state)
    with tf.Session() as sess:
        _start(tf, sess)
        values = sess.run([output, new_state], {x: x_value})
    return values, sorted(v.op.name for v in tf.trainable_variables())


@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_one_step_of_each_cell_matches_tensorflow(cell_name, dtype):
    tf = require_tf()
    ours, our_names = run_in_graph(tfcore, _one_step, cell_name, dtype)
    theirs, their_names = run_in_graph(tf, _one_step, cell_name, dtype)
    assert our_names == their_names == [n.removeprefix("rnn/") for n in NAMES[cell_name]]
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(_leaves(ours), _leaves(theirs)):
        np.testing.assert_allclose(a, b, **tol)


# ------------------------------------------------------------------------------------------------
# The loops over time: values, final states, gradients through time, variable names
# ------------------------------------------------------------------------------------------------


def _lstm_state(cells, dtype):
    rng = np.random.default_rng(5)
    c, h = (rng.uniform(-1, 1, (BATCH, UNITS)).astype(dtype.base_dtype.as_numpy_dtype) for _ in range(2))
    return cells.LSTMStateTuple(c, h)


def _static_bidirectional(nn, cells, x, d):
    outputs, fw, bw = nn.static_bidirectional_rnn(cells.GRUCell(UNITS), cells.BasicRNNCell(4), x, dtype=d,
                                                  sequence_length=LENGTHS)
    return outputs, (fw, bw)


# Each loop as (nn, cells, x, dtype) -> (outputs, final state); x is a list of steps for the static ones.
LOOPS = {
    "static": lambda nn, cells, x, d: nn.static_rnn(cells.BasicLSTMCell(UNITS), x, dtype=d),
    "static_len": lambda nn, cells, x, d: nn.static_rnn(cells.GRUCell(UNITS), x, dtype=d,
                                                        sequence_length=LENGTHS),
    "dynamic": lambda nn, cells, x, d: nn.dynamic_rnn(cells.LSTMCell(UNITS, use_peepholes=True, num_proj=4),
                                                      x, dtype=d),
    "dynamic_time_major": lambda nn, cells, x, d: nn.dynamic_rnn(cells.BasicRNNCell(UNITS), x, dtype=d,
                                                                 time_major=True),
    "dynamic_len": lambda nn, cells, x, d: nn.dynamic_rnn(cells.GRUCell(UNITS), x, LENGTHS, dtype=d),
    "dynamic_initial_state": lambda nn, cells, x, d: nn.dynamic_rnn(
        cells.BasicLSTMCell(UNITS), x, LENGTHS, initial_state=_lstm_state(cells, x.dtype)),
    "multi_lstm_len_time_major": lambda nn, cells, x, d: nn.dynamic_rnn(
        cells.MultiRNNCell([cells.BasicLSTMCell(UNITS), cells.LSTMCell(4, num_proj=3)]), x, LENGTHS,
        dtype=d, time_major=True, scope="deep"),
    "bidirectional": lambda nn, cells, x, d: nn.bidirectional_dynamic_rnn(
        cells.BasicLSTMCell(UNITS), cells.GRUCell(4), x, dtype=d),
    "bidirectional_len": lambda nn, cells, x, d: nn.bidirectional_dynamic_rnn(
        cells.BasicLSTMCell(UNITS), cells.GRUCell(4), x, dtype=d, sequence_length=LENGTHS),
    "static_bidirectional_len": _static_bidirectional,
}
STATIC = {"static", "static_len", "static_bidirectional_len"}


def _build_loop(tf, kind, x, dtype):
    """The loop `kind` on inputs x: (outputs, final state)."""
    steps = tf.unstack(x, axis=1) if kind in STATIC else x
    return LOOPS[kind](tf.nn, rc(tf), steps, tf.as_dtype(dtype))


TIME_MAJOR = {"dynamic_time_major", "multi_lstm_len_time_major"}


def _weighted_sum(tf, tensors):
    """sum_k sum(t_k * W_k), fixed weights W_k: a loss on which every element has its own gradient."""
    rng = np.random.default_rng(11)
    terms = [tf.reduce_sum(t * rng.uniform(0.5, 1.5, t.get_shape().as_list()).astype(
        t.dtype.base_dtype.as_numpy_dtype)) for t in tensors]
    return tf.add_n(terms)


def _loop_program(tf, kind, dtype):
    """The loop's outputs, final state, loss and gradients (inputs, then each variable), and names."""
    x_value = _inputs(dtype, time_major=kind in TIME_MAJOR)
    x = tf.placeholder(tf.as_dtype(dtype), x_value.shape, name="x")
    outputs, state = _build_loop(tf, kind, x, dtype)
    loss = _weighted_sum(tf, _leaves(outputs) + _leaves(state))
    variables = sorted(tf.trainable_variables(), key=lambda v: v.op.name)
    grads = tf.gradients(loss, [x] + variables)
    with tf.Session() as sess:
        _start(tf, sess)
        values = sess.run([outputs, state, loss, grads], {x: x_value})
    return values, [v.op.name for v in variables]


@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(LOOPS))
def test_loops_match_tensorflow(kind, dtype):
    tf = require_tf()
    ours, our_names = run_in_graph(tfcore, _loop_program, kind, dtype)
    theirs, their_names = run_in_graph(tf, _loop_program, kind, dtype)
    assert our_names == their_names
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    assert len(_leaves(ours)) == len(_leaves(theirs))
    for a, b in zip(_leaves(ours), _leaves(theirs)):
        np.testing.assert_allclose(a, b, **tol)


def _names_program(tf):
    """The variables of dynamic_rnn over each cell, a bidirectional loop and cells called directly."""
    x = tf.placeholder(tf.float32, [BATCH, STEPS, DEPTH])
    names = {}
    for cell_name in sorted(CELLS):
        with tf.Graph().as_default():
            inner = tf.placeholder(tf.float32, [BATCH, STEPS, DEPTH])
            tf.nn.dynamic_rnn(CELLS[cell_name](tf), inner, dtype=tf.float32)
            names[cell_name] = sorted(v.op.name for v in tf.trainable_variables())
    cells = rc(tf)
    tf.nn.bidirectional_dynamic_rnn(cells.BasicLSTMCell(3), cells.GRUCell(2), x, dtype=tf.float32)
    for scope in (None, "myscope", None):
        cell = cells.BasicRNNCell(3)
        cell(x[:, 0], cell.zero_state(BATCH, tf.float32), scope=scope)
        cell(x[:, 1], cell.zero_state(BATCH, tf.float32))  # a second call reuses the variables
    names["others"] = [v.op.name for v in tf.trainable_variables()]
    return names


@pytest.mark.parametrize("engine_name", engines())
def test_variable_names_are_tf1s(engine_name):
    names = run_in_graph(engine(engine_name), _names_program)
    others = names.pop("others")
    assert names == NAMES
    assert others == [  # TensorFlow 2.21's tf.compat.v1 names
        "bidirectional_rnn/fw/basic_lstm_cell/kernel", "bidirectional_rnn/fw/basic_lstm_cell/bias",
        "bidirectional_rnn/bw/gru_cell/gates/kernel", "bidirectional_rnn/bw/gru_cell/gates/bias",
        "bidirectional_rnn/bw/gru_cell/candidate/kernel", "bidirectional_rnn/bw/gru_cell/candidate/bias",
        "basic_rnn_cell/kernel", "basic_rnn_cell/bias", "myscope/kernel", "myscope/bias",
        "basic_rnn_cell_1/kernel", "basic_rnn_cell_1/bias"]


def test_facades_show_the_same_names():
    for name in ("BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "MultiRNNCell", "DropoutWrapper",
                 "LSTMStateTuple", "RNNCell", "ResidualWrapper", "DeviceWrapper"):
        assert getattr(tfcore.contrib.rnn, name) is getattr(tfcore.nn.rnn_cell, name)
        assert getattr(tfcore.compat.v1.nn.rnn_cell, name) is getattr(tfcore.nn.rnn_cell, name)
    assert tfcore.contrib.rnn.static_rnn is tfcore.nn.static_rnn


# ------------------------------------------------------------------------------------------------
# sequence_length: outputs zero past each length, the state frozen at each sequence's last step
# ------------------------------------------------------------------------------------------------


def _lengths_program(tf):
    x_value = _inputs()
    x = tf.placeholder(tf.float32, x_value.shape)
    cell = rc(tf).BasicLSTMCell(UNITS)
    masked, masked_state = tf.nn.dynamic_rnn(cell, x, sequence_length=LENGTHS, dtype=tf.float32)
    full, _ = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32, scope="rnn")  # the same cell: same variables
    steps = [cell(x[:, 0], cell.zero_state(BATCH, tf.float32))]
    for t in range(1, STEPS):
        steps.append(cell(x[:, t], steps[-1][1]))
    with tf.Session() as sess:
        _start(tf, sess)
        return sess.run([masked, masked_state, full, [s[1] for s in steps]], {x: x_value})


@pytest.mark.parametrize("engine_name", engines())
def test_sequence_length_zeroes_outputs_and_freezes_the_state(engine_name):
    masked, state, full, step_states = run_in_graph(engine(engine_name), _lengths_program)
    for b, n in enumerate(LENGTHS):
        np.testing.assert_allclose(masked[b, :n], full[b, :n], rtol=1e-6)
        assert not masked[b, n:].any()
        expected_c = step_states[n - 1].c[b] if n else np.zeros(UNITS)
        expected_h = step_states[n - 1].h[b] if n else np.zeros(UNITS)
        np.testing.assert_allclose(state.c[b], expected_c, rtol=1e-6)
        np.testing.assert_allclose(state.h[b], expected_h, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Gradients through time against float64 central differences
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dynamic_len", "multi_lstm_len_time_major", "bidirectional_len", "dynamic"])
def test_gradients_through_time_match_numerical_gradients(kind):
    with tfcore.Graph().as_default():
        x_value = _inputs(np.float64, time_major=kind in TIME_MAJOR)
        x = tfcore.placeholder(tfcore.float64, x_value.shape)
        outputs, state = _build_loop(tfcore, kind, x, np.float64)
        loss = _weighted_sum(tfcore, _leaves(outputs) + _leaves(state))
        kernel = sorted(tfcore.trainable_variables(), key=lambda v: v.op.name)[-1]
        grad_x, grad_kernel = tfcore.gradients(loss, [x, kernel])
        with tfcore.Session() as sess:
            _start(tfcore, sess)
            symbolic_x, symbolic_kernel = sess.run([grad_x, grad_kernel], {x: x_value})
            numeric_x = numerical_gradient(lambda a: sess.run(loss, {x: a[0]}), [x_value.copy()], 0)

            def loss_at(arrays):
                kernel.load(arrays[0], sess)
                return sess.run(loss, {x: x_value})
            numeric_kernel = numerical_gradient(loss_at, [_weights_for(kernel)], 0)
    np.testing.assert_allclose(symbolic_x, numeric_x, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(symbolic_kernel, numeric_kernel, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------------------------------
# Errors at build time
# ------------------------------------------------------------------------------------------------


def test_unknown_number_of_time_steps_is_a_clear_error():
    cells, nn = tfcore.nn.rnn_cell, tfcore.nn
    with tfcore.Graph().as_default():
        x = tfcore.placeholder(tfcore.float32, [None, None, DEPTH])
        with pytest.raises(ValueError, match="dynamic_rnn.*time steps.*while_loop"):
            nn.dynamic_rnn(cells.BasicLSTMCell(UNITS), x, dtype=tfcore.float32)
        with pytest.raises(ValueError, match="bidirectional_dynamic_rnn.*time steps"):
            nn.bidirectional_dynamic_rnn(cells.GRUCell(2), cells.GRUCell(2), x, dtype=tfcore.float32)


@pytest.mark.parametrize("engine_name", engines())
def test_missing_dtype_and_bad_keep_probability_are_errors(engine_name):
    tf = engine(engine_name)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [BATCH, STEPS, DEPTH])
        with pytest.raises(ValueError, match="dtype"):
            tf.nn.dynamic_rnn(rc(tf).GRUCell(2), x)
        with pytest.raises(ValueError, match="dtype"):
            tf.nn.static_rnn(rc(tf).GRUCell(2), tf.unstack(x, axis=1))
        with pytest.raises(ValueError, match="must be between 0 and 1"):
            rc(tf).DropoutWrapper(rc(tf).GRUCell(2), output_keep_prob=1.5)


# ------------------------------------------------------------------------------------------------
# DropoutWrapper: what it drops and how it scales (random masks differ from TF's: statistics)
# ------------------------------------------------------------------------------------------------


def test_dropout_wrapper_drops_outputs_and_the_lstm_h_state_only():
    with tfcore.Graph().as_default():
        cells = tfcore.nn.rnn_cell
        x = tfcore.constant(np.ones((400, 3), np.float32))
        base = cells.BasicLSTMCell(50)
        state = cells.LSTMStateTuple(tfcore.ones([400, 50]), tfcore.ones([400, 50]))
        plain_out, plain_state = base(x, state)
        wrapped = cells.DropoutWrapper(base, output_keep_prob=0.5, state_keep_prob=0.25, seed=3)
        out, new_state = wrapped(x, state)
        with tfcore.Session() as sess:
            _start(tfcore, sess)
            p_out, p_state, d_out, d_state = sess.run([plain_out, plain_state, out, new_state])
    kept = d_out != 0
    assert 0.45 < kept.mean() < 0.55
    np.testing.assert_allclose(d_out[kept], 2 * p_out[kept], rtol=1e-6)
    np.testing.assert_allclose(d_state.c, p_state.c, rtol=1e-6)  # the cell state is never dropped
    kept_h = d_state.h != 0
    assert 0.2 < kept_h.mean() < 0.3
    np.testing.assert_allclose(d_state.h[kept_h], 4 * p_state.h[kept_h], rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# A small program: an LSTM classifier of random sequences, trained with Adam
# ------------------------------------------------------------------------------------------------


def _classifier_program(tf, steps=5):
    rng = np.random.default_rng(3)
    sequences = rng.standard_normal((8, STEPS, DEPTH)).astype(np.float32)
    labels = rng.integers(0, 3, 8).astype(np.int64)
    lengths = rng.integers(1, STEPS + 1, 8).astype(np.int32)
    x = tf.placeholder(tf.float32, [None, STEPS, DEPTH], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    cell = rc(tf).MultiRNNCell([rc(tf).BasicLSTMCell(8), rc(tf).LSTMCell(6)])
    _, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32)
    with tf.variable_scope("logits"):
        w = tf.get_variable("w", [6, 3])
        b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
    logits = tf.matmul(state[-1].h, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    losses = []
    with tf.Session() as sess:
        _start(tf, sess)
        for _ in range(steps):
            value, _ = sess.run([loss, train], {x: sequences, y: labels})
            losses.append(value)
        losses.append(sess.run(loss, {x: sequences, y: labels}))
    return np.array(losses)


def test_lstm_classifier_trains_with_adam_as_tensorflow_does():
    ours = run_in_graph(tfcore, _classifier_program)
    assert ours[-1] < ours[0]
    if reference_tf() is not None:
        np.testing.assert_allclose(ours, run_in_graph(reference_tf(), _classifier_program), rtol=1e-5)
