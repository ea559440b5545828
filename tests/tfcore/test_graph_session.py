"""Graph, names, scopes, collections and Session behaviours that classic TF1 code relies on.

Programs return plain values (names, printed forms, fetched numbers); each runs on tfcore and,
where installed, on TensorFlow, and both must give the same result.
"""

import collections

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engines, reference_tf, run_in_graph


def both(program, expected=None):
    """Run `program` on tfcore, check it against `expected` (TensorFlow's values, written out, so the
    test asserts something where TensorFlow is not installed) and against TensorFlow where it is;
    return tfcore's result."""
    ours = run_in_graph(tfcore, program)
    if expected is not None:
        assert _plain(ours) == _plain(expected), f"tfcore: {ours}\nexpected: {expected}"
    tf = reference_tf()
    if tf is not None:
        theirs = run_in_graph(tf, program)
        assert _plain(ours) == _plain(theirs), f"tfcore: {ours}\nTensorFlow: {theirs}"
    return ours


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray | np.generic):
        return np.asarray(x).tolist()
    return x


def test_seed_tensor_session_example_prints_like_tf():
    def program(tf):
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.constant([2.0, 3.0], name="b")
        result = a + b
        with tf.Session() as sess:
            return [str(result), sess.run(result).tolist()]
    assert both(program) == ['Tensor("add:0", shape=(2,), dtype=float32)', [3.0, 5.0]]


def test_op_names_are_made_unique_like_tf():
    def program(tf):
        a = tf.constant(1.0)
        names = [t.name for t in (a + a, a + a, tf.add(a, a), a * 2.0, 2.0 * a, a - a, a / a, -a,
                                  tf.matmul(tf.ones([2, 2]), tf.ones([2, 2])), tf.reduce_sum(a),
                                  tf.reduce_mean(a), tf.cast(a, tf.int32), tf.identity(a))]
        with tf.name_scope("layer"):
            names.append(tf.add(a, a).name)
            with tf.name_scope("inner"):
                names.append(tf.multiply(a, a, name="product").name)
        with tf.name_scope("layer"):
            names.append(tf.add(a, a).name)
        names.append(tf.placeholder(tf.float32, [None, 3]).name)
        names.append(tf.placeholder(tf.float32, name="x-input").name)
        return names
    both(program, [
        "add:0", "add_1:0", "Add_2:0", "mul:0", "mul_1:0", "sub:0", "truediv:0", "Neg:0", "MatMul:0", "Sum:0",
        "Mean:0", "Cast:0", "Identity:0", "layer/Add:0", "layer/inner/product:0", "layer_1/Add:0",
        "Placeholder:0", "x-input:0"])


def test_printing_tensors_variables_and_shapes():
    def program(tf):
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        unknown = tf.placeholder(tf.float32, name="anything")
        w = tf.Variable(tf.zeros([784, 10]), name="weights")
        step = tf.Variable(0, name="step", trainable=False)
        return [str(x), str(unknown), repr(w), repr(step), str(x.get_shape()), x.get_shape().as_list(),
                [d.value for d in x.get_shape()] if hasattr(x.get_shape()[0], "value") else None,
                w.name, w.op.name, str(w.dtype), str(tf.float32)]
    out = both(program)
    assert out[0] == 'Tensor("x:0", shape=(?, 784), dtype=float32)'
    assert out[2] == "<tf.Variable 'weights:0' shape=(784, 10) dtype=float32_ref>"


def test_variable_scopes_and_get_variable():
    def program(tf):
        init = tf.constant_initializer(0.5)
        names = []
        with tf.variable_scope("foo"):
            v = tf.get_variable("v", [1], initializer=init)
            with tf.variable_scope("bar"):
                names.append(tf.get_variable("v", [1], initializer=init).name)
            names.append(tf.add(v, 1.0).name)
        with tf.variable_scope("foo", reuse=True):
            names.append(tf.get_variable("v", [1]) is v)
            with tf.variable_scope("bar"):  # reuse is inherited
                names.append(tf.get_variable("v", [1]).name)
        with tf.variable_scope("foo") as scope:
            scope.reuse_variables()
            names.append(tf.get_variable("v") is v)
        with tf.variable_scope("", reuse=True):
            names.append(tf.get_variable("foo/bar/v").name)
        with tf.name_scope("ns"):
            names.append(tf.get_variable("plain", [2], initializer=init).name)  # not prefixed
        for bad in (lambda: tf.get_variable("plain", [2]),):
            try:
                bad()
            except ValueError as e:
                names.append("already exists" in str(e))
        with tf.variable_scope("foo", reuse=True):
            try:
                tf.get_variable("missing", [1])
            except ValueError as e:
                names.append("does not exist" in str(e))
        names.append(tf.get_variable_scope().name)
        return names
    out = both(program)
    assert out[0] == "foo/bar/v:0" and out[-3:] == [True, True, ""]


def test_collections_and_trainable_variables():
    def program(tf):
        a = tf.Variable(1.0, name="a")
        b = tf.Variable(2.0, name="b", trainable=False)
        tf.add_to_collection("losses", tf.constant(3.0, name="l"))
        tf.add_to_collection("losses", tf.constant(4.0, name="l"))
        return [[v.name for v in tf.global_variables()], [v.name for v in tf.trainable_variables()],
                [t.name for t in tf.get_collection("losses")], a.name, b.name,
                [v.name for v in tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="a")]]
    both(program, [["a:0", "b:0"], ["a:0"], ["l:0", "l_1:0"], "a:0", "b:0", ["a:0"]])


def test_fetch_structures_and_feed_by_name():
    def program(tf):
        x = tf.placeholder(tf.float32, [2], name="x-input")
        y = x * 2.0
        z = tf.reduce_sum(y)
        noop = tf.no_op()
        pair = collections.namedtuple("Pair", "y z")
        with tf.Session() as sess:
            out = sess.run({"a": [y, (z, noop)], "b": pair(y, z), "c": y}, feed_dict={"x-input:0": [1, 2]})
            single = sess.run(z, {x: np.array([3.0, 4.0])})
        return [out["a"][0], out["a"][1][0], out["a"][1][1], list(out["b"]), out["c"], single,
                type(out["b"]).__name__]
    out = both(program)
    assert out[5] == 14.0 and out[2] is None and out[6] == "Pair"


def test_variable_fetched_with_its_update_shows_new_value():
    def program(tf):
        step = tf.Variable(0, name="global_step", trainable=False)
        w = tf.Variable(1.0)
        train = tf.assign_add(w, 1.0)
        with tf.control_dependencies([train]):
            increment = tf.assign_add(step, 1)
        train_op = tf.group(train, increment)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return [sess.run([train_op, step])[1] for _ in range(3)]
    assert both(program) == [1, 2, 3]


def test_cond_runs_one_branch_and_differentiates_through_it():
    def program(tf):
        x = tf.placeholder(tf.float32, [3], name="x")
        flag = tf.placeholder(tf.bool, [], name="flag")
        counter = tf.Variable(0.0)
        y = tf.cond(flag, lambda: tf.reduce_sum(x * x), lambda: tf.reduce_sum(3.0 * x))
        grad = tf.gradients(y, x)[0]
        both_used = tf.cond(flag, lambda: x[0] * 2.0, lambda: x[1] + 0.0)
        grad2 = tf.gradients(both_used, x)[0]
        bump = tf.cond(flag, lambda: tf.assign_add(counter, 1.0), lambda: tf.identity(counter))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: [1.0, 2.0, 3.0]}
            out = []
            for value in (True, False):
                feed[flag] = value
                out.append(sess.run([y, grad, grad2], feed))
                out.append(sess.run(bump, feed))
            out.append(sess.run(counter))
        return out
    both(program, [
        [14.0, [2.0, 4.0, 6.0], [2.0, 0.0, 0.0]], 1.0, [18.0, [3.0, 3.0, 3.0], [0.0, 1.0, 0.0]], 1.0, 1.0])


def test_graph_lookups_finalize_and_default_sessions():
    def program(tf):
        g = tf.get_default_graph()
        a = tf.constant([1.0, 2.0], name="a")
        b = tf.multiply(a, 3.0, name="b")
        out = [g.get_operation_by_name("b").name, g.get_tensor_by_name("b:0").name,
               [op.name for op in g.get_operations()][:3]]
        sess = tf.InteractiveSession()
        out.append(b.eval().tolist())
        out.append(b.eval(feed_dict={a: [1.0, 1.0]}).tolist())
        init = tf.no_op(name="init")
        init.run()
        sess.close()
        with tf.Session() as s2:
            out.append(tf.get_default_session() is s2)
        g.finalize()
        try:
            tf.constant(1.0)
        except RuntimeError as e:
            out.append("finalized" in str(e))
        return out
    both(program, ["b", "b:0", ["a", "b/y", "b"], [3.0, 6.0], [3.0, 3.0],
                    True, True])


def test_session_on_explicit_graph_and_closed_session():
    g = tfcore.Graph()
    with g.as_default():
        c = tfcore.constant(5.0)
    sess = tfcore.Session(graph=g)
    assert sess.run(c) == 5.0
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(c)


def test_two_sessions_keep_separate_variables():
    def program(tf):
        v = tf.Variable(1.0)
        inc = tf.assign_add(v, 1.0)
        s1, s2 = tf.Session(), tf.Session()
        s1.run(tf.global_variables_initializer())
        s2.run(tf.global_variables_initializer())
        s1.run(inc)
        s1.run(inc)
        return [s1.run(v), s2.run(v)]
    assert both(program) == [3.0, 1.0]


def test_run_options_full_trace_records_per_op_timings():
    tf = tfcore
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4, 4])
        y = tf.reduce_sum(tf.matmul(x, x), name="total")
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        metadata = tf.RunMetadata()
        with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
            sess.run(y, {x: np.eye(4)}, options=options, run_metadata=metadata)
        names = [s.node_name for d in metadata.step_stats.dev_stats for s in d.node_stats]
        assert "total" in names and "MatMul" in names
        assert all(s.all_end_rel_micros >= 0 for d in metadata.step_stats.dev_stats for s in d.node_stats)


@pytest.mark.parametrize("engine_name", engines())
def test_numpy_array_on_the_left(engine_name):
    from tests.tfcore.harness import engine
    tf = engine(engine_name)
    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = np.array([3.0, 4.0], dtype=np.float32) * x
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(y), [3.0, 8.0])


def test_cast_passes_gradients_between_float_widths():
    def program(tf):
        x = tf.placeholder(tf.float64, [3], name="x")
        y = tf.reduce_sum(tf.square(tf.cast(x, tf.float32)))
        g = tf.gradients(y, x)[0]
        with tf.Session() as sess:
            value = sess.run(g, {x: [1.0, -2.0, 0.5]})
        return [str(g.dtype), value]
    out = both(program)
    assert out[0] == "<dtype: 'float64'>"
    np.testing.assert_allclose(out[1], [2.0, -4.0, 1.0])


_NEGATED_SQUARE = "CourseTestNegatedSquareGrad"
_REGISTERED_ON = set()  # ids of the engines _NEGATED_SQUARE is registered on (once per process)


def _register_negated_square(tf):
    """A gradient for Square with the wrong sign, registered under a name of its own."""
    if id(tf) not in _REGISTERED_ON:
        @tf.RegisterGradient(_NEGATED_SQUARE)
        def _negated(op, grad):
            return -2.0 * op.inputs[0] * grad
        _REGISTERED_ON.add(id(tf))


@pytest.mark.parametrize("engine_name", engines())
def test_gradient_override_map_gives_the_ops_built_inside_another_gradient(engine_name):
    from tests.tfcore.harness import engine
    tf = engine(engine_name)
    _register_negated_square(tf)
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, -2.0, 3.0])
        with graph.gradient_override_map({"Square": _NEGATED_SQUARE}):
            inside = tf.square(x)
        outside = tf.square(x)
        grads = [tf.gradients(inside, x)[0], tf.gradients(outside, x)[0]]
        with tf.Session() as sess:
            got_inside, got_outside = sess.run(grads)
        with pytest.raises(TypeError, match="mapping strings to strings"):
            with graph.gradient_override_map({"Square": 1}):
                pass
        with graph.gradient_override_map({"Square": "NoSuchGradient"}):
            unknown = tf.square(x)
        with pytest.raises(LookupError, match="No gradient defined"):
            tf.gradients(unknown, x)
    np.testing.assert_allclose(got_inside, [-2.0, 4.0, -6.0])
    np.testing.assert_allclose(got_outside, [2.0, -4.0, 6.0])
