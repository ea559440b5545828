"""The plan's and the kernels' speed mechanisms give the values the plain versions give.

- buffer reuse: an elementwise kernel may write into an input that dies at its op, but never into a
  fed array, a constant, a variable's value, a fetched value or an array something else still sees;
- im2col in pieces: a fast convolution kernel (tfcore/ops/conv_fast.py) built piece by piece equals
  the one built at once.
"""

import numpy as np
import pytest

import tfcore as tf
import tfcore.client.plan as plan
import tfcore.ops.conv_fast as conv_fast
from tfcore.framework.registry import KernelContext

# Big enough to be worth reusing (small arrays are never offered to a kernel).
NEGATIVE = np.tile(np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]], dtype=np.float32), (40, 40))
BIAS = np.tile(np.float32([1.0, -1.0, 0.5]), 40)


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


@pytest.fixture
def donations(monkeypatch):
    """The op types whose kernel got a dead input as its output buffer, in the order they ran."""
    given = []
    donor = plan._donor

    def recording(step, values, args):
        out = donor(step, values, args)
        if out is not None:
            given.append(step.op.type)
        return out

    monkeypatch.setattr(plan, "_donor", recording)
    return given


def test_dead_intermediates_are_reused_and_values_are_right(graph, donations):
    x = tf.placeholder(tf.float32, [None, 120])
    y = tf.nn.relu(tf.nn.bias_add(x * 2.0, tf.constant(BIAS)))
    with tf.Session() as sess:
        out = sess.run(y, {x: NEGATIVE})
    np.testing.assert_array_equal(out, np.maximum(NEGATIVE * 2 + BIAS, 0))
    assert donations == ["BiasAdd", "Relu"]  # Mul's input is fed: never reused


def test_fed_constant_and_variable_arrays_are_never_overwritten(graph, donations):
    x = tf.placeholder(tf.float32, [None, 120])
    c = tf.constant(NEGATIVE)
    v = tf.Variable(NEGATIVE)
    outs = [tf.nn.relu(x), tf.nn.relu(c), tf.nn.relu(v), tf.nn.relu(tf.identity(v)), x + c, c * v]
    fed = NEGATIVE.copy()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(2):
            got = sess.run(outs, {x: fed})
            np.testing.assert_array_equal(fed, NEGATIVE)
            np.testing.assert_array_equal(sess.run(c), NEGATIVE)
            np.testing.assert_array_equal(sess.run(v), NEGATIVE)
    for value in got[:4]:
        np.testing.assert_array_equal(value, np.maximum(NEGATIVE, 0))
    np.testing.assert_array_equal(got[4], NEGATIVE * 2)
    assert donations == []


def test_fetched_and_still_seen_arrays_are_never_overwritten(graph, donations):
    x = tf.placeholder(tf.float32, [None, 120])
    doubled = x * 2.0
    fetched = tf.nn.relu(doubled)  # `doubled` is fetched too: it must keep its negative values
    product = x * 3.0
    flat = tf.reshape(product, [-1])  # a view of `product`, read after the Relu below
    seen = tf.nn.relu(product)
    later = flat + 0.0
    aliased = tf.identity(x * 4.0)
    summed = tf.nn.relu(aliased) + aliased  # both inputs are one array: never reused
    with tf.Session() as sess:
        got = sess.run([doubled, fetched, seen, later, summed], {x: NEGATIVE})
    np.testing.assert_array_equal(got[0], NEGATIVE * 2)
    np.testing.assert_array_equal(got[1], np.maximum(NEGATIVE * 2, 0))
    np.testing.assert_array_equal(got[2], np.maximum(NEGATIVE * 3, 0))
    np.testing.assert_array_equal(got[3], (NEGATIVE * 3).reshape(-1))
    np.testing.assert_array_equal(got[4], np.maximum(NEGATIVE * 4, 0) + NEGATIVE * 4)
    assert "Relu" not in donations[:1]  # the first Relu's input is fetched


def test_broadcast_result_never_lands_in_a_smaller_input(graph, donations):
    x = tf.placeholder(tf.float32, [None, 120])
    small = tf.reduce_sum(x, axis=0)  # [120], dead at the Add below, but the result is [80, 120]
    y = small + x * 1.0
    with tf.Session() as sess:
        out = sess.run(y, {x: NEGATIVE})
    np.testing.assert_array_equal(out, NEGATIVE.sum(axis=0) + NEGATIVE)


@pytest.mark.parametrize("strides, padding, dilations", [
    ([1, 1, 1, 1], "SAME", [1, 1, 1, 1]),
    ([1, 2, 3, 1], "SAME", [1, 1, 1, 1]),
    ([1, 1, 2, 1], "VALID", [1, 2, 1, 1]),
])
def test_im2col_in_pieces_equals_im2col_at_once(monkeypatch, strides, padding, dilations):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 11, 9, 4))
    filter = rng.standard_normal((3, 2, 4, 5))
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": [], "dilations": dilations,
             "data_format": "NHWC"}

    def all_three():
        ctx = KernelContext(np)
        y = conv_fast._conv2d_kernel(ctx, x, filter, **attrs)
        dy = np.linspace(-1, 1, y.size).reshape(y.shape)
        return [y, conv_fast._conv2d_backprop_input_kernel(ctx, np.array(x.shape), filter, dy, **attrs),
                conv_fast._conv2d_backprop_filter_kernel(ctx, x, np.array(filter.shape), dy, **attrs)]

    at_once = all_three()
    for piece_bytes in (1, 200, 2000):  # one output row, a few rows, a few images per piece
        monkeypatch.setattr(conv_fast, "IM2COL_PIECE_BYTES", piece_bytes)
        for whole, pieces in zip(at_once, all_three()):
            np.testing.assert_allclose(pieces, whole, rtol=1e-12, atol=1e-12)


def test_an_input_whose_views_are_dead_is_reused(graph, donations):
    # `doubled` is read through a reshape first; once that view is dead, Relu may write into it.
    x = tf.placeholder(tf.float32, [None, 120])
    doubled = x * 2.0
    total = tf.reduce_sum(tf.reshape(doubled, [-1]))
    with tf.control_dependencies([total]):
        y = tf.nn.relu(doubled)
    with tf.Session() as sess:
        got_total, got_y = sess.run([total, y], {x: NEGATIVE})
    np.testing.assert_allclose(got_total, (NEGATIVE * 2).sum(), rtol=1e-5)
    np.testing.assert_array_equal(got_y, np.maximum(NEGATIVE * 2, 0))
    assert donations == ["Relu"]
