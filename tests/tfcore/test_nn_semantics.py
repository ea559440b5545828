"""tf.nn, tf.losses and tf.contrib.layers behaviours the op-spec table cannot express.

LeNet-5's static shapes and numbers, stability for huge logits, build- and run-time errors,
max-pool ties, the LOSSES collection, and op names. Most programs run on every engine (tfcore, and
TensorFlow where it is installed), so the expected values written here are TensorFlow's own.
`tf.contrib` is gone from TensorFlow 2, so fully_connected and friends are checked against what
TF1 produced (variable and op names), and dropout (random) by its statistics.
"""

import math

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, require_tf, run_in_graph


def _shape(t):
    return t.get_shape().as_list()


# ------------------------------------------------------------------------------------------------
# LeNet-5
# ------------------------------------------------------------------------------------------------


def _lenet(tf):
    """LeNet-5 as the classic TF1 book builds it, with fixed random weights: returns its tensors."""
    rng = np.random.default_rng(0)

    def weight(shape, scale):
        return tf.Variable(rng.normal(0.0, scale, shape).astype(np.float32))

    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, 10], name="y-input")
    conv1 = tf.nn.conv2d(x, weight([5, 5, 1, 32], 0.1), strides=[1, 1, 1, 1], padding="SAME")
    relu1 = tf.nn.relu(tf.nn.bias_add(conv1, weight([32], 0.1)))
    pool1 = tf.nn.max_pool(relu1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    conv2 = tf.nn.conv2d(pool1, weight([5, 5, 32, 64], 0.05), strides=[1, 1, 1, 1], padding="SAME")
    relu2 = tf.nn.relu(tf.nn.bias_add(conv2, weight([64], 0.1)))
    pool2 = tf.nn.max_pool(relu2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    pool_shape = pool2.get_shape().as_list()
    nodes = pool_shape[1] * pool_shape[2] * pool_shape[3]
    reshaped = tf.reshape(pool2, [-1, nodes])
    fc1 = tf.nn.relu(tf.matmul(reshaped, weight([nodes, 512], 0.02)) + weight([512], 0.1))
    logits = tf.matmul(fc1, weight([512, 10], 0.05)) + weight([10], 0.1)
    xent = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.argmax(y_, 1), logits=logits)
    loss = tf.reduce_mean(xent)
    return {"x": x, "y_": y_, "layers": [conv1, pool1, conv2, pool2, reshaped, fc1, logits],
            "loss": loss, "grads": tf.gradients(loss, tf.trainable_variables())}


@pytest.mark.parametrize("engine_name", engines())
def test_lenet5_static_shapes(engine_name):
    net = run_in_graph(engine(engine_name), _lenet)
    assert [_shape(t) for t in net["layers"]] == [
        [None, 28, 28, 32], [None, 14, 14, 32], [None, 14, 14, 64], [None, 7, 7, 64], [None, 3136],
        [None, 512], [None, 10]]
    assert all(g is not None for g in net["grads"])


def _run_lenet(tf, images, labels):
    net = _lenet(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run([net["layers"][-1], net["loss"], net["grads"]],
                        {net["x"]: images, net["y_"]: labels})


@pytest.mark.tensorflow
def test_lenet5_values_and_gradients_match_tensorflow():
    rng = np.random.default_rng(1)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[[3, 0, 7]]
    ours = run_in_graph(tfcore, _run_lenet, images, labels)
    theirs = run_in_graph(require_tf(), _run_lenet, images, labels)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-4)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


# ------------------------------------------------------------------------------------------------
# Numerical stability for huge logits
# ------------------------------------------------------------------------------------------------

HUGE = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], np.float32)
CLASSES = np.array([0, 1, 2], np.int32)


def _huge_logits_program(tf):
    logits = tf.placeholder(tf.float32, [3, 3])
    onehot = tf.one_hot(CLASSES, 3)
    losses = [tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits),
              tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=logits),
              tf.nn.sparse_softmax_cross_entropy_with_logits(labels=CLASSES, logits=logits)]
    grads = [tf.gradients(loss, logits)[0] for loss in losses]
    others = [tf.nn.softmax(logits), tf.nn.log_softmax(logits), tf.nn.softplus(logits),
              tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits), logits=logits)]
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits), logits=logits)
    grads.append(tf.gradients(sig, logits)[0])
    with tf.Session() as sess:
        return sess.run([losses, grads, others], {logits: HUGE})


@pytest.mark.parametrize("engine_name", engines())
def test_cross_entropy_is_finite_for_huge_logits(engine_name):
    losses, grads, others = run_in_graph(engine(engine_name), _huge_logits_program)
    for loss in losses:
        np.testing.assert_allclose(loss, [0.0, math.log(2), math.log(3)], rtol=1e-6)
    expected_grad = np.array([[0, 0, 0], [0.5, -0.5, 0], [1 / 3, 1 / 3, -2 / 3]])
    for g in grads[:3]:
        np.testing.assert_allclose(g, expected_grad, atol=1e-6)
    softmax, log_softmax, softplus, sigmoid_xent = others
    assert all(np.isfinite(v).all() for v in [softmax, log_softmax, softplus, sigmoid_xent, grads[3]])
    np.testing.assert_allclose(log_softmax[1], [-math.log(2), -math.log(2), -1000 - math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(softplus[0], [1000, math.log(2), 0], rtol=1e-6)
    np.testing.assert_allclose(sigmoid_xent[0], [0, math.log(2), 1000], rtol=1e-6)  # labels 1
    np.testing.assert_allclose(grads[3][0], [0, -0.5, -1], atol=1e-6)  # sigmoid(x) - 1


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


def _image(tf):
    return tf.placeholder(tf.float32, [None, 8, 8, 3])


BUILD_ERRORS = [
    ("conv2d/filter_depth", lambda tf: tf.nn.conv2d(_image(tf), tf.ones([3, 3, 2, 4]), [1, 1, 1, 1], "SAME")),
    ("conv2d/lower_case_padding", lambda tf: tf.nn.conv2d(_image(tf), tf.ones([3, 3, 3, 4]), [1, 1, 1, 1],
                                                          "same")),
    ("conv2d/valid_filter_too_big", lambda tf: tf.nn.conv2d(_image(tf), tf.ones([9, 9, 3, 4]), [1, 1, 1, 1],
                                                            "VALID")),
    ("bias_add/channels", lambda tf: tf.nn.bias_add(_image(tf), tf.ones([4]))),
    ("softmax_xent/shapes", lambda tf: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.ones([2, 3]), logits=tf.ones([2, 4]))),
    ("sparse_xent/rank_mismatch", lambda tf: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.ones([2, 1], tf.int32), logits=tf.ones([2, 4]))),
    ("sparse_xent/batch_mismatch", lambda tf: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.ones([3], tf.int32), logits=tf.ones([2, 4]))),
    ("sigmoid_xent/shapes", lambda tf: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones([2, 3]), logits=tf.ones([2, 4]))),
    ("dropout/keep_prob_above_1", lambda tf: tf.nn.dropout(_image(tf), 2.0)),
    ("losses/mse_shapes", lambda tf: tf.losses.mean_squared_error(tf.ones([2, 3]), tf.ones([3, 2]))),
]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", BUILD_ERRORS, ids=[c[0] for c in BUILD_ERRORS])
def test_build_errors(engine_name, case):
    with pytest.raises(ValueError):
        run_in_graph(engine(engine_name), case[1])


@pytest.mark.parametrize("engine_name", engines())
def test_sparse_labels_must_be_integers(engine_name):
    tf = engine(engine_name)
    with pytest.raises(TypeError):
        run_in_graph(tf, lambda tf: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.ones([2]), logits=tf.ones([2, 4])))


def _out_of_range_label(tf):
    logits = tf.placeholder(tf.float32, [2, 3])
    labels = tf.placeholder(tf.int32, [2])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="outside the valid range"):
            sess.run(loss, {logits: np.zeros([2, 3]), labels: [0, 3]})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(loss, {logits: np.zeros([2, 3]), labels: [-1, 0]})


@pytest.mark.parametrize("engine_name", engines())
def test_sparse_label_out_of_range_fails_at_run_time(engine_name):
    run_in_graph(engine(engine_name), _out_of_range_label)


def test_only_nhwc_images():
    with pytest.raises(ValueError, match="NHWC"):
        run_in_graph(tfcore, lambda tf: tf.nn.conv2d(_image(tf), tf.ones([3, 3, 3, 4]), [1, 1, 1, 1], "SAME",
                                                     data_format="NCHW"))
    with pytest.raises(ValueError, match="NHWC"):
        run_in_graph(tfcore, lambda tf: tf.nn.max_pool(_image(tf), [1, 2, 2, 1], [1, 2, 2, 1], "SAME",
                                                       data_format="NCHW"))


# ------------------------------------------------------------------------------------------------
# Names and static shapes of the nn ops
# ------------------------------------------------------------------------------------------------


def _named_outputs(tf):
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    filt = tf.ones([3, 3, 3, 4])
    logits = tf.placeholder(tf.float32, [None, 5])
    labels = tf.placeholder(tf.float32, [None, 5])
    classes = tf.placeholder(tf.int32, [None])
    batch = tf.shape(x)[0]
    outs = [tf.nn.relu(x), tf.nn.conv2d(x, filt, [1, 1, 1, 1], "SAME"),
            tf.nn.conv2d(x, filt, [1, 2, 2, 1], "VALID"),
            tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
            tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "VALID"),
            tf.nn.conv2d_transpose(x, tf.ones([3, 3, 2, 3]), tf.stack([batch, 16, 16, 2]), [1, 2, 2, 1]),
            tf.nn.conv2d_backprop_input(tf.shape(x), filt, tf.ones([2, 8, 8, 4]), [1, 1, 1, 1], "SAME"),
            tf.nn.conv2d_backprop_filter(x, [3, 3, 3, 4], tf.ones([2, 8, 8, 4]), [1, 1, 1, 1], "SAME"),
            tf.nn.bias_add(logits, tf.ones([5])), tf.nn.softmax(logits), tf.nn.log_softmax(logits),
            tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits),
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=classes, logits=logits),
            tf.nn.l2_loss(logits), tf.nn.in_top_k(logits, classes, 3), tf.nn.l2_normalize(logits, 1),
            tf.nn.xw_plus_b(logits, tf.ones([5, 2]), tf.ones([2])), tf.nn.relu6(logits), tf.nn.elu(logits),
            tf.nn.selu(logits), tf.nn.leaky_relu(logits), tf.nn.softplus(logits), tf.nn.softsign(logits),
            *tf.nn.moments(x, [0, 1, 2]), tf.nn.embedding_lookup(logits, classes)]
    return [(t.name, _shape(t)) for t in outs]


@pytest.mark.tensorflow
def test_op_names_and_shapes_match_tensorflow():
    assert run_in_graph(tfcore, _named_outputs) == run_in_graph(require_tf(), _named_outputs)


# ------------------------------------------------------------------------------------------------
# Max-pool ties, in_top_k ties
# ------------------------------------------------------------------------------------------------


def _max_pool_tie_gradients(tf):
    x = tf.placeholder(tf.float32, [1, 4, 4, 1])
    pools = [tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
             tf.nn.max_pool(x, [1, 3, 3, 1], [1, 1, 1, 1], "SAME")]
    with tf.Session() as sess:
        grads = sess.run([tf.gradients(p, x)[0] for p in pools], {x: np.ones([1, 4, 4, 1])})
    return [g.reshape(4, 4) for g in grads]


@pytest.mark.parametrize("engine_name", engines())
def test_max_pool_gives_a_tied_window_gradient_to_its_first_maximum(engine_name):
    valid, same = run_in_graph(engine(engine_name), _max_pool_tie_gradients)
    np.testing.assert_array_equal(valid, [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(same, [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]])


def _in_top_k_cases(tf):
    predictions = tf.placeholder(tf.float32, [4, 3])
    targets = tf.placeholder(tf.int32, [4])
    k = tf.placeholder(tf.int32, [])
    hits = tf.nn.in_top_k(predictions, targets, k)
    feed = {predictions: [[1, 1, 1], [1, 2, 3], [np.inf, 1, 2], [0, 5, np.nan]], targets: [2, 3, 1, 1]}
    with tf.Session() as sess:
        return [sess.run(hits, {**feed, k: n}).tolist() for n in (1, 2, 3)]


@pytest.mark.parametrize("engine_name", engines())
def test_in_top_k_ties_and_bad_rows(engine_name):
    # ties count for the target; a target out of range or a non-finite row is never in the top k
    assert run_in_graph(engine(engine_name), _in_top_k_cases) == [
        [True, False, False, False], [True, False, False, False], [True, False, False, False]]


# ------------------------------------------------------------------------------------------------
# tf.losses and the LOSSES collection
# ------------------------------------------------------------------------------------------------


def _losses_program(tf):
    rng = np.random.default_rng(3)
    labels = tf.constant(rng.normal(size=(3, 4)).astype(np.float32))
    preds = tf.constant(rng.normal(size=(3, 4)).astype(np.float32))
    logits = tf.constant(rng.normal(size=(3, 4)).astype(np.float32))
    onehot = tf.constant(np.eye(4, dtype=np.float32)[[0, 3, 1]])
    classes = tf.constant(np.array([0, 3, 1], np.int32))
    multi = tf.constant((rng.random((3, 4)) < 0.5).astype(np.float32))
    reduction = tf.losses.Reduction
    made = [tf.losses.mean_squared_error(labels, preds),
            tf.losses.absolute_difference(labels, preds, weights=[[1.0], [0.0], [2.0]]),
            tf.losses.softmax_cross_entropy(onehot, logits, label_smoothing=0.1),
            tf.losses.sparse_softmax_cross_entropy(classes, logits, weights=[1.0, 0.0, 2.0]),
            tf.losses.sigmoid_cross_entropy(multi, logits, reduction=reduction.MEAN, label_smoothing=0.2),
            tf.losses.mean_squared_error(labels, preds, weights=0.0),
            tf.losses.huber_loss(labels, preds, delta=0.5, reduction=reduction.SUM),
            tf.losses.log_loss(multi, tf.sigmoid(preds), reduction=reduction.SUM_OVER_BATCH_SIZE),
            tf.losses.sparse_softmax_cross_entropy(tf.reshape(classes, [3, 1]), logits),
            tf.losses.mean_squared_error(labels, preds, reduction=reduction.NONE, loss_collection=None),
            tf.losses.softmax_cross_entropy(onehot, logits, scope="my_loss")]
    w = tf.Variable(np.full((3, 2), 0.5, np.float32), name="w")
    penalty = tf.multiply(0.1, tf.nn.l2_loss(w), name="penalty")
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, penalty)
    totals = [tf.losses.get_total_loss(), tf.losses.get_regularization_loss(),
              tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(made + totals)
    return {"made": [t.name for t in made], "collected": [t.name for t in tf.losses.get_losses()],
            "scoped": [t.name for t in tf.losses.get_losses(scope="my_loss")],
            "regularization": [t.name for t in tf.losses.get_regularization_losses()],
            "totals": [t.name for t in totals], "values": values}


@pytest.mark.parametrize("engine_name", engines())
def test_losses_collection(engine_name):
    out = run_in_graph(engine(engine_name), _losses_program)
    assert out["made"] == [
        "mean_squared_error/value:0", "absolute_difference/value:0", "softmax_cross_entropy_loss/value:0",
        "sparse_softmax_cross_entropy_loss/value:0", "sigmoid_cross_entropy_loss/value:0",
        "mean_squared_error_1/value:0", "huber_loss/Sum:0", "log_loss/value:0",
        "sparse_softmax_cross_entropy_loss_1/value:0", "mean_squared_error_2/Mul:0", "my_loss/value:0"]
    assert out["collected"] == out["made"][:9] + out["made"][10:]  # loss_collection=None: not collected
    assert out["scoped"] == ["my_loss/value:0"]
    assert out["regularization"] == ["penalty:0"]
    assert out["totals"] == ["total_loss:0", "total_regularization_loss:0", "data_loss:0"]
    values = out["values"]
    assert values[5] == 0.0  # all weights zero: 0, not NaN
    assert values[9].shape == (3, 4)
    total, regularization, data = values[-3:]
    np.testing.assert_allclose(regularization, 0.1 * 6 * 0.25 / 2, rtol=1e-6)
    np.testing.assert_allclose(data, sum(values[i] for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 10)), rtol=1e-5)
    np.testing.assert_allclose(total, data + regularization, rtol=1e-6)


@pytest.mark.tensorflow
def test_losses_values_match_tensorflow():
    ours = run_in_graph(tfcore, _losses_program)["values"]
    theirs = run_in_graph(require_tf(), _losses_program)["values"]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def _loss_gradients(tf):
    logits = tf.placeholder(tf.float64, [3, 4])
    onehot = tf.constant(np.eye(4)[[0, 3, 1]])
    loss = tf.losses.softmax_cross_entropy(onehot, logits, weights=[1.0, 2.0, 0.0], label_smoothing=0.1)
    with tf.Session() as sess:
        value = np.random.default_rng(0).normal(size=(3, 4))
        return sess.run([loss, tf.gradients(loss, logits)[0]], {logits: value})


@pytest.mark.tensorflow
def test_loss_gradients_match_tensorflow():
    ours = run_in_graph(tfcore, _loss_gradients)
    theirs = run_in_graph(require_tf(), _loss_gradients)
    assert ours[0].dtype == theirs[0].dtype == np.float64  # computed in float32, cast back, as in TF
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------------------------------
# tf.contrib.layers (TF1 names; contrib is not in TensorFlow 2)
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def graph():
    with tfcore.Graph().as_default() as g:
        yield g


def test_fully_connected_names_like_tf1(graph):
    tf = tfcore
    x = tf.placeholder(tf.float32, [None, 784])
    h = tf.contrib.layers.fully_connected(x, 500)
    y = tf.contrib.layers.fully_connected(h, 10, activation_fn=None)
    named = tf.contrib.layers.fully_connected(h, 10, scope="logits")
    assert [v.name for v in tf.global_variables()] == [
        "fully_connected/weights:0", "fully_connected/biases:0", "fully_connected_1/weights:0",
        "fully_connected_1/biases:0", "logits/weights:0", "logits/biases:0"]
    assert tf.trainable_variables() == tf.global_variables()
    assert tf.get_collection(tf.GraphKeys.MODEL_VARIABLES) == tf.global_variables()
    assert (h.name, y.name, named.name) == ("fully_connected/Relu:0", "fully_connected_1/BiasAdd:0",
                                            "logits/Relu:0")
    assert graph.get_operation_by_name("fully_connected/MatMul").type == "MatMul"
    assert _shape(h) == [None, 500] and _shape(y) == [None, 10]


def test_fully_connected_reuse_and_regularizer(graph):
    tf = tfcore
    x = tf.placeholder(tf.float32, [None, 4])
    regularizer = tf.contrib.layers.l2_regularizer(0.5)
    a = tf.contrib.layers.fully_connected(x, 3, scope="fc", weights_regularizer=regularizer)
    b = tf.contrib.layers.fully_connected(x, 3, scope="fc", reuse=True)
    assert a is not b and len(tf.global_variables()) == 2
    with pytest.raises(ValueError, match="already exists"):
        tf.contrib.layers.fully_connected(x, 3, scope="fc")
    (penalty,) = tf.losses.get_regularization_losses()
    assert penalty.name == "fc/weights/Regularizer/l2_regularizer:0"
    weights = graph.get_tensor_by_name("fc/weights:0")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w, p, total = sess.run([weights, penalty, tf.losses.get_regularization_loss()])
    np.testing.assert_allclose(p, 0.5 * np.sum(w * w) / 2, rtol=1e-6)
    np.testing.assert_allclose(total, p)


def test_fully_connected_computes_relu_of_affine(graph):
    tf = tfcore
    x = tf.placeholder(tf.float32, [None, 3, 4])  # rank 3: applied to the last axis
    y = tf.contrib.layers.fully_connected(x, 2)
    value = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    variables = tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, params = sess.run([y, variables], {x: value})
    expected = value @ params[0] + params[1]
    np.testing.assert_allclose(out, np.maximum(expected, 0), rtol=1e-5, atol=1e-6)
    assert _shape(y) == [None, 3, 2]
    limit = math.sqrt(6 / (4 + 2))  # xavier (Glorot) uniform
    assert np.all(np.abs(params[0]) <= limit)


def test_fully_connected_without_biases(graph):
    tf = tfcore
    y = tf.contrib.layers.fully_connected(tf.ones([2, 3]), 4, biases_initializer=None, activation_fn=None)
    assert [v.name for v in tf.global_variables()] == ["fully_connected/weights:0"]
    assert y.name == "fully_connected/MatMul:0"


def test_flatten_keeps_the_batch_dimension(graph):
    tf = tfcore
    images = tf.placeholder(tf.float32, [None, 7, 7, 64])
    flat = tf.contrib.layers.flatten(images)
    assert _shape(flat) == [None, 3136]
    assert _shape(tf.contrib.layers.flatten(tf.ones([5, 2, 3]))) == [5, 6]
    dynamic = tf.contrib.layers.flatten(tf.placeholder(tf.float32, [None, None, 3]))
    assert _shape(dynamic) == [None, None]
    with tf.Session() as sess:
        out = sess.run(dynamic, {dynamic.op.inputs[0]: np.ones([2, 4, 3])})
    assert out.shape == (2, 12)


def test_regularizers(graph):
    tf = tfcore
    layers = tf.contrib.layers
    w = tf.constant([[1.0, -2.0], [3.0, -4.0]])
    penalties = [layers.l2_regularizer(0.1)(w), layers.l1_regularizer(0.1)(w),
                 layers.l1_l2_regularizer(0.1, 0.2)(w),
                 layers.sum_regularizer([layers.l1_regularizer(1.0), layers.l2_regularizer(1.0)])(w)]
    assert penalties[0].name == "l2_regularizer:0" and penalties[1].name == "l1_regularizer:0"
    assert layers.l2_regularizer(0.0)(w) is None
    with pytest.raises(ValueError, match="integer"):
        layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        layers.l1_regularizer(-0.5)
    with tf.Session() as sess:
        values = sess.run(penalties)
    np.testing.assert_allclose(values, [0.1 * 30 / 2, 0.1 * 10, 0.1 * 10 + 0.2 * 30 / 2, 10 + 30 / 2],
                               rtol=1e-6)


def test_apply_regularization(graph):
    tf = tfcore
    a, b = tf.Variable([1.0, 2.0]), tf.Variable([[3.0]])
    total = tf.contrib.layers.apply_regularization(tf.contrib.layers.l2_regularizer(1.0), [a, b])
    assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [total]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(total) == pytest.approx((1 + 4 + 9) / 2)


# ------------------------------------------------------------------------------------------------
# dropout: statistics, not values
# ------------------------------------------------------------------------------------------------


def test_dropout_statistics(graph):
    tf = tfcore
    x = tf.ones([200, 500])
    keep_prob = tf.placeholder(tf.float32, [])
    dropped = tf.nn.dropout(x, keep_prob)
    fixed = tf.nn.dropout(x, 0.5)
    by_rate = tf.nn.dropout(x, rate=0.75)
    rows = tf.nn.dropout(x, 0.5, noise_shape=[200, 1])
    grad = tf.gradients(tf.reduce_sum(fixed), x)[0]
    assert _shape(dropped) == [200, 500]
    with tf.Session() as sess:
        half, quarter, row_masked, g = sess.run([fixed, by_rate, rows, grad])
        half_again = sess.run(fixed)
        kept_all = sess.run(dropped, {keep_prob: 1.0})
        fed_half = sess.run(dropped, {keep_prob: 0.5})
    for out, keep in [(half, 0.5), (quarter, 0.25), (fed_half, 0.5)]:
        assert set(np.unique(out)) <= {0.0, 1.0 / keep}
        assert abs(np.mean(out != 0) - keep) < 0.01  # 100000 draws: std of the mean 0.0016
        assert abs(out.mean() - 1.0) < 0.02  # the scaling keeps the expectation
    assert not np.array_equal(half, half_again)  # a new mask on every run
    np.testing.assert_array_equal(kept_all, np.ones([200, 500]))
    assert all(len(set(row)) == 1 for row in row_masked)  # noise_shape [200, 1]: whole rows kept or dropped
    assert set(np.unique(g)) <= {0.0, 2.0}


def test_dropout_of_zero_rate_is_the_input(graph):
    tf = tfcore
    x = tf.ones([3])
    assert tf.nn.dropout(x, 1.0) is x
    with pytest.raises(ValueError):
        tf.nn.dropout(x)
