"""Bad input gets a clear error at the earliest point: one table, run on tfcore and on TensorFlow.

Each case builds (and maybe runs) a small faulty program. On tfcore the error must be of the
listed class and its message must contain every listed fragment (the op, the shapes, the
placeholder, ...). The same program on real TensorFlow raises the same class (message wording
differs), which keeps tfcore's behaviour honest.
"""

import numpy as np
import pytest

from tests.tfcore.harness import engine, engines, run_in_graph


def _matmul_shapes(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    tf.matmul(x, tf.ones([4, 5]), name="project")


def _add_shapes(tf):
    tf.add(tf.ones([2, 3]), tf.ones([4, 5]), name="total")


def _add_dtypes(tf):
    tf.add(tf.ones([2, 3]), tf.ones([2, 3], dtype=tf.int32), name="mixed")


def _reshape_size(tf):
    tf.reshape(tf.ones([2, 3]), [4, 2], name="flatten")


def _feed_shape(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.Session() as sess:
        sess.run(x * 2.0, {x: np.zeros([2, 4])})


def _feed_dtype(tf):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.Session() as sess:
        sess.run(x * 2.0, {x: [["a", "b", "c"]]})


def _unfed_placeholder(tf):
    x = tf.placeholder(tf.float32, [None, 784], name="x_input")
    with tf.Session() as sess:
        sess.run(tf.reduce_sum(x))


def _uninitialised_variable(tf):
    w = tf.Variable(tf.zeros([3]), name="weights")
    with tf.Session() as sess:
        sess.run(w * 2.0)


def _check_numerics_nan(tf):
    y = tf.check_numerics(tf.log(tf.constant([-1.0])), "log of a negative number")
    with tf.Session() as sess:
        sess.run(y)


def _add_check_numerics_inf(tf):
    x = tf.placeholder(tf.float32, [2], name="x")
    tf.divide(tf.constant([1.0, 1.0]), x, name="ratio")
    check = tf.add_check_numerics_ops()
    with tf.Session() as sess:
        sess.run(check, {x: [1.0, 0.0]})


def _fetch_other_graph(tf):
    other = tf.Graph()
    with other.as_default():
        stranger = tf.constant(1.0, name="stranger")
    tf.constant(2.0)
    with tf.Session() as sess:
        sess.run(stranger)


# (id, program, error class name, fragments the tfcore message must contain)
CASES = [
    ("matmul-shapes", _matmul_shapes, "ValueError", ["project", "MatMul", "[?,3]", "[4,5]"]),
    ("add-broadcast", _add_shapes, "ValueError", ["total", "[2,3]", "[4,5]"]),
    ("add-dtypes", _add_dtypes, "TypeError", ["float32", "int32"]),
    ("reshape-size", _reshape_size, "ValueError", ["flatten", "6", "[4, 2]"]),
    ("feed-shape", _feed_shape, "ValueError", ["x:0", "(2, 4)", "(?, 3)"]),
    ("feed-dtype", _feed_dtype, "ValueError", ["x:0"]),
    ("unfed-placeholder", _unfed_placeholder, "InvalidArgumentError", ["x_input", "must feed"]),
    ("uninitialised-variable", _uninitialised_variable, "FailedPreconditionError",
     ["weights", "uninitialized"]),
    ("check-numerics-nan", _check_numerics_nan, "InvalidArgumentError", ["log of a negative number", "NaN"]),
    ("add-check-numerics-inf", _add_check_numerics_inf, "InvalidArgumentError", ["ratio", "Inf"]),
    ("fetch-other-graph", _fetch_other_graph, "ValueError", ["stranger", "not an element of this graph"]),
]


def _classes(name, tf):
    if hasattr(tf.errors, name):
        return getattr(tf.errors, name)
    return {"ValueError": ValueError, "TypeError": TypeError}[name]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(case, engine_name):
    _, program, error_name, fragments = case
    tf = engine(engine_name)
    with pytest.raises(_classes(error_name, tf)) as info:
        run_in_graph(tf, program)
    if engine_name == "tfcore":
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} missing from: {message}"


def test_dtype_mismatch_is_also_a_value_error():
    """The issue asks for ValueError at build time; TF raises TypeError: tfcore's error is both."""
    import tfcore
    with pytest.raises(ValueError, match="float32.*int32|int32.*float32"):
        run_in_graph(tfcore, _add_dtypes)
