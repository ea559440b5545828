"""Two TF1 behaviours classic code meets: string tensors fetch as `bytes`, and the gradient of a
gather is a `tf.IndexedSlices` that optimizers apply as a sparse update (scatter ops, SparseApply*).

Every check runs on tfcore and, where it is installed, on TensorFlow, and compares the two.
"""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, run_in_graph

ENGINES = engines()


# --- strings -------------------------------------------------------------------------------------


def _strings(tf):
    hello = tf.constant("Hello")
    words = tf.constant([["héllo", b"w"], ["", "x y"]])
    fed = tf.placeholder(tf.string, [None])
    with tf.Session() as sess:
        return sess.run([hello, words, tf.identity(fed), tf.identity(hello)],
                        {fed: ["a", b"b", np.str_("c")]})


@pytest.mark.parametrize("name", ENGINES)
def test_string_tensors_fetch_as_bytes(name):
    hello, words, fed, again = run_in_graph(engine(name), _strings)
    assert hello == b"Hello" and type(hello) is bytes and again == b"Hello"
    assert words.dtype == object and words.shape == (2, 2)
    assert words.tolist() == [["héllo".encode(), b"w"], [b"", b"x y"]]
    assert all(type(w) is bytes for w in words.ravel())
    assert fed.dtype == object and fed.tolist() == [b"a", b"b", b"c"]


def test_strings_and_numbers_do_not_mix():
    with tfcore.Graph().as_default():
        with pytest.raises(TypeError, match="Expected string for a string constant, got 1"):
            tfcore.constant(["a", 1], dtype=tfcore.string)
        fed = tfcore.placeholder(tfcore.string, [2])
        with tfcore.Session() as sess, pytest.raises(ValueError, match="Cannot feed value for Tensor"):
            sess.run(fed, {fed: np.array(["a", 2], dtype=object)})


# --- IndexedSlices -------------------------------------------------------------------------------

PARAMS = np.arange(18, dtype=np.float64).reshape(6, 3) / 10
IDS = np.array([[1, 3], [1, 5]], dtype=np.int64)


def _gather_gradients(tf):
    params = tf.Variable(PARAMS, name="params")
    looked_up = tf.nn.embedding_lookup(params, IDS)                  # [2, 2, 3]
    weights = tf.constant(np.arange(12, dtype=np.float64).reshape(2, 2, 3))
    loss = tf.reduce_sum(looked_up * weights)
    sparse = tf.gradients(loss, params)[0]
    twice = tf.gradients(loss + tf.reduce_sum(tf.gather(params, [0, 1]) * 2.0), params)[0]
    mixed = tf.gradients(loss + tf.reduce_sum(params * 3.0), params)[0]
    kinds = ["IndexedSlices" if isinstance(g, tf.IndexedSlices) else "Tensor" for g in (sparse, twice, mixed)]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run({"sparse": sparse, "twice": twice, "mixed": mixed,
                           "dense": tf.convert_to_tensor(sparse)})
    return kinds, values


@pytest.mark.parametrize("name", ENGINES)
def test_the_gradient_of_a_gather_is_indexed_slices(name):
    kinds, values = run_in_graph(engine(name), _gather_gradients)
    assert kinds == ["IndexedSlices", "IndexedSlices", "Tensor"]
    sparse = values["sparse"]
    assert type(sparse).__name__ == "IndexedSlicesValue"
    weights = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.testing.assert_array_equal(sparse.values, weights)
    np.testing.assert_array_equal(sparse.indices, [1, 3, 1, 5])
    np.testing.assert_array_equal(sparse.dense_shape, [6, 3])
    dense = np.zeros((6, 3))
    np.add.at(dense, [1, 3, 1, 5], weights)
    np.testing.assert_array_equal(values["dense"], dense)
    twice = values["twice"]
    np.testing.assert_array_equal(twice.indices, [0, 1, 1, 3, 1, 5])  # the later op's rows first, as TF
    np.testing.assert_array_equal(twice.values[:2], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(values["mixed"], dense + 3.0)


def test_both_engines_give_the_same_indexed_slices():
    tf = engine("tensorflow")
    ours, theirs = run_in_graph(tfcore, _gather_gradients)[1], run_in_graph(tf, _gather_gradients)[1]
    for key in ("sparse", "twice"):
        for part in ("values", "indices", "dense_shape"):
            np.testing.assert_array_equal(getattr(ours[key], part), getattr(theirs[key], part), err_msg=key)
            assert getattr(ours[key], part).dtype == getattr(theirs[key], part).dtype, (key, part)
    np.testing.assert_array_equal(ours["mixed"], theirs["mixed"])


def test_the_densified_gradient_passes_a_numerical_check():
    params = PARAMS.copy()

    def loss_of(p):
        return float(np.sum(p[IDS] * np.arange(12).reshape(2, 2, 3)) + np.sum(np.tanh(p[[0, 2]])))

    with tfcore.Graph().as_default():
        x = tfcore.placeholder(tfcore.float64, [6, 3])
        loss = (tfcore.reduce_sum(tfcore.gather(x, IDS) * np.arange(12.0).reshape(2, 2, 3))
                + tfcore.reduce_sum(tfcore.tanh(tfcore.gather(x, [0, 2]))))
        grad = tfcore.convert_to_tensor(tfcore.gradients(loss, x)[0])
        with tfcore.Session() as sess:
            symbolic = sess.run(grad, {x: params})
    numeric = np.zeros_like(params)
    for k in range(params.size):
        step = np.zeros(params.size)
        step[k] = 1e-6
        step = step.reshape(params.shape)
        numeric.reshape(-1)[k] = (loss_of(params + step) - loss_of(params - step)) / 2e-6
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-6, atol=1e-8)


# --- sparse updates ------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": lambda tf: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda tf: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda tf: tf.train.AdamOptimizer(0.05),
    "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.5),
    "centered": lambda tf: tf.train.RMSPropOptimizer(0.05, momentum=0.5, centered=True),
    "adagrad": lambda tf: tf.train.AdagradOptimizer(0.1),
}


def _train_embedding(tf, make_optimizer, steps=3):
    """Three steps on an embedding looked up with a repeated id: the variable, every slot, and the
    op types of the update."""
    params = tf.Variable(PARAMS.astype(np.float32), name="params")
    dense = tf.Variable(np.ones((3, 2), np.float32), name="dense")
    picked = tf.nn.embedding_lookup(params, [[1, 3], [1, 5]])
    loss = tf.reduce_sum(tf.tanh(tf.matmul(tf.reshape(picked, [4, 3]), dense)))
    optimizer = make_optimizer(tf)
    train = optimizer.minimize(loss)
    types = {op.type for op in tf.get_default_graph().get_operations() if "update_params" in op.name}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            sess.run(train)
        slots = {n: sess.run(optimizer.get_slot(params, n)) for n in sorted(optimizer.get_slot_names())}
        return sess.run(params), sess.run(dense), slots, types


SPARSE_OPS = {"sgd": "ScatterSub", "momentum": "SparseApplyMomentum", "nesterov": "SparseApplyMomentum",
              "adam": "ScatterAdd", "rmsprop": "SparseApplyRMSProp", "centered": "SparseApplyCenteredRMSProp",
              "adagrad": "SparseApplyAdagrad"}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_optimizers_apply_sparse_gradients_as_tensorflow_does(kind):
    ours = run_in_graph(tfcore, _train_embedding, OPTIMIZERS[kind])
    assert SPARSE_OPS[kind] in ours[3], ours[3]
    untouched = [0, 2, 4]
    if kind != "adam":  # Adam decays m and v everywhere and moves every row that has momentum
        np.testing.assert_array_equal(ours[0][untouched], PARAMS.astype(np.float32)[untouched])
    tf = engine("tensorflow")
    theirs = run_in_graph(tf, _train_embedding, OPTIMIZERS[kind])
    assert SPARSE_OPS[kind] in theirs[3], theirs[3]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-5)
    assert ours[2].keys() == theirs[2].keys()
    for name in ours[2]:
        np.testing.assert_allclose(ours[2][name], theirs[2][name], rtol=1e-5, atol=1e-5, err_msg=name)


def _scatters(tf):
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    rows = np.array([[2, 0], [2, 3]])
    updates = np.arange(12, dtype=np.float32).reshape(2, 2, 3) * 10
    add = tf.scatter_add(v, rows, updates)
    sub = tf.scatter_sub(v, [1, 1], np.ones((2, 3), np.float32))
    update = tf.scatter_update(v, [3], [[-1.0, -2.0, -3.0]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return [sess.run(add), sess.run(sub), sess.run(update), sess.run(v)]


@pytest.mark.parametrize("name", ENGINES)
def test_scatter_ops(name):
    added, subtracted, updated, final = run_in_graph(engine(name), _scatters)
    start = np.arange(12, dtype=np.float32).reshape(4, 3)
    expected = start.copy()
    np.add.at(expected, [2, 0, 2, 3], np.arange(12, dtype=np.float32).reshape(4, 3) * 10)
    np.testing.assert_array_equal(added, expected)
    expected[1] -= 2
    np.testing.assert_array_equal(subtracted, expected)
    expected[3] = [-1, -2, -3]
    np.testing.assert_array_equal(updated, expected)
    np.testing.assert_array_equal(final, expected)


def test_scatter_errors_name_the_problem():
    with tfcore.Graph().as_default():
        v = tfcore.Variable(np.zeros((4, 3), np.float32))
        with pytest.raises(ValueError, match="indices.shape \\+ ref.shape\\[1:\\]"):
            tfcore.scatter_add(v, [0, 1], np.ones((3, 3), np.float32))
        with pytest.raises(TypeError, match="is not a variable"):
            tfcore.scatter_add(tfcore.zeros([4, 3]), [0], np.ones((1, 3), np.float32))
        bad = tfcore.scatter_add(v, [4], np.ones((1, 3), np.float32))
        with tfcore.Session() as sess:
            sess.run(tfcore.global_variables_initializer())
            with pytest.raises(Exception, match=r"not in \[0, 4\)"):
                sess.run(bad)


def test_a_sparse_update_with_a_repeated_row_applies_it_twice_in_order():
    """The SparseApply kernels take repeated rows one after the other, as TF's kernels do."""
    from tfcore.train.sparse_training_ops import sparse_apply

    with tfcore.Graph().as_default():
        var = tfcore.Variable(np.ones((3, 2), np.float64))
        accum = tfcore.Variable(np.zeros((3, 2), np.float64))
        grad = tfcore.IndexedSlices(tfcore.constant([[1.0, 2.0], [3.0, 4.0]], tfcore.float64),
                                    tfcore.constant([1, 1]))
        step = sparse_apply("SparseApplyMomentum", [var, accum], [0.1], grad, [0.5], {"use_locking": False,
                                                                                   "use_nesterov": False})
        with tfcore.Session() as sess:
            sess.run(tfcore.global_variables_initializer())
            sess.run(step)
            new_var, new_accum = sess.run([var, accum])
    a1 = np.array([1.0, 2.0])
    a2 = a1 * 0.5 + [3.0, 4.0]
    np.testing.assert_allclose(new_accum[1], a2)
    np.testing.assert_allclose(new_var[1], 1 - 0.1 * a1 - 0.1 * a2)
    np.testing.assert_array_equal(new_var[[0, 2]], np.ones((2, 2)))
