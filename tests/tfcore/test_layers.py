"""tf.layers: values, gradients and moving statistics against TensorFlow; names, collections, reuse.

TensorFlow 2.21 with Keras 3 has no `tf.compat.v1.layers` (its layers need the tf_keras package),
so the reference numbers come from the same layers written with TensorFlow's own ops
(`tf.nn.conv2d`, `tf.nn.fused_batch_norm`, ...) from the same starting weights; the names and
collections are TF1's (those tf.layers gave), checked on tfcore.
"""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import numerical_gradient, require_tf, run_in_graph

RNG = np.random.default_rng(7)
X4 = RNG.standard_normal((2, 5, 5, 3))
K33 = RNG.standard_normal((3, 3, 3, 4)) * 0.3
KT = RNG.standard_normal((3, 3, 2, 3)) * 0.3
B4 = RNG.standard_normal(4) * 0.1
B2 = RNG.standard_normal(2) * 0.1
X2 = RNG.standard_normal((6, 3))
KD = RNG.standard_normal((3, 4)) * 0.5


def _init(tf, a):
    return tf.constant_initializer(a)


# Each case: (name, tfcore layers program, TensorFlow program from its ops); both return the output.
def _dense_layers(tf, x):
    return tf.layers.dense(x, 4, activation=tf.nn.relu, kernel_initializer=_init(tf, KD),
                           bias_initializer=_init(tf, B4))


def _dense_ops(tf, x):
    return tf.nn.relu(tf.nn.bias_add(tf.matmul(x, tf.Variable(KD.astype(x.dtype.as_numpy_dtype))),
                                     tf.Variable(B4.astype(x.dtype.as_numpy_dtype))))


def _conv_layers(tf, x):
    return tf.layers.conv2d(x, 4, 3, strides=2, padding="same", activation=tf.nn.tanh,
                            kernel_initializer=_init(tf, K33), bias_initializer=_init(tf, B4))


def _conv_ops(tf, x):
    d = x.dtype.as_numpy_dtype
    y = tf.nn.conv2d(x, tf.Variable(K33.astype(d)), strides=[1, 2, 2, 1], padding="SAME")
    return tf.nn.tanh(tf.nn.bias_add(y, tf.Variable(B4.astype(d))))


def _deconv_layers(tf, x):
    return tf.layers.conv2d_transpose(x, 2, 3, strides=2, padding="VALID", kernel_initializer=_init(tf, KT),
                                      bias_initializer=_init(tf, B2))


def _deconv_ops(tf, x):
    d = x.dtype.as_numpy_dtype
    shape = tf.stack([tf.shape(x)[0], 11, 11, 2])
    y = tf.nn.conv2d_transpose(x, tf.Variable(KT.astype(d)), shape, strides=[1, 2, 2, 1], padding="VALID")
    return tf.nn.bias_add(y, tf.Variable(B2.astype(d)))


def _pool_layers(tf, x):
    a = tf.layers.max_pooling2d(x, 2, 2, padding="same")
    b = tf.layers.average_pooling2d(x, (3, 3), (2, 1), padding="Same")
    return tf.concat([tf.layers.flatten(a), tf.layers.flatten(b)], 1)


def _pool_ops(tf, x):
    a = tf.nn.max_pool2d(x, 2, 2, "SAME")
    b = tf.nn.avg_pool2d(x, [3, 3], [2, 1], "SAME")
    return tf.concat([tf.reshape(a, [2, -1]), tf.reshape(b, [2, -1])], 1)


CASES = [("dense", X2, _dense_layers, _dense_ops), ("conv2d", X4, _conv_layers, _conv_ops),
         ("conv2d_transpose", X4, _deconv_layers, _deconv_ops), ("pooling", X4, _pool_layers, _pool_ops)]


def _values_and_grads(tf, program, x_value):
    x = tf.placeholder(tf.as_dtype(x_value.dtype), x_value.shape)
    out = program(tf, x)
    shape = out.get_shape().as_list()
    weights = np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape)
    loss = tf.reduce_sum(out * weights.astype(x_value.dtype))
    grads = tf.gradients(loss, [x] + tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run([out, grads], {x: x_value})


@pytest.mark.tensorflow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_values_and_gradients_match_tensorflow(case, dtype):
    _, x, layers_program, ops_program = case
    ours = run_in_graph(tfcore, _values_and_grads, layers_program, x.astype(dtype))
    theirs = run_in_graph(require_tf(), _values_and_grads, ops_program, x.astype(dtype))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours[0], theirs[0], **tol)
    assert len(ours[1]) == len(theirs[1])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, **tol)


# ------------------------------------------------------------------------------------------------
# batch_normalization over several training steps, then inference
# ------------------------------------------------------------------------------------------------


def _bn_reference(tf, x, training, momentum, eps):
    """TF's layer written with TF's ops: the fused kernel for 4-D float32, moments otherwise."""
    c = x.get_shape().as_list()[-1]
    dtype = x.dtype.base_dtype
    gamma = tf.Variable(np.ones(c, dtype.as_numpy_dtype))
    beta = tf.Variable(np.zeros(c, dtype.as_numpy_dtype))
    mm = tf.Variable(np.zeros(c, dtype.as_numpy_dtype), trainable=False)
    mv = tf.Variable(np.ones(c, dtype.as_numpy_dtype), trainable=False)
    if x.get_shape().ndims == 4 and dtype == tf.float32:
        out_t, mean_t, var_t = tf.nn.fused_batch_norm(x, gamma, beta, epsilon=max(eps, 1.001e-5))
        out_i = tf.nn.batch_normalization(x, mm, mv, beta, gamma, max(eps, 1.001e-5))
        decay = tf.cast(1.0 - tf.constant(momentum), dtype)
    else:
        mean_t, var_t = tf.nn.moments(x, list(range(x.get_shape().ndims - 1)))
        out_t = tf.nn.batch_normalization(x, mean_t, var_t, beta, gamma, eps)
        out_i = tf.nn.batch_normalization(x, mm, mv, beta, gamma, eps)
        decay = tf.cast(tf.constant(1.0 - momentum), dtype)
    out = tf.cond(training, lambda: out_t, lambda: out_i)
    decay = tf.where(training, decay, tf.zeros_like(decay))
    for v, s in ((mm, mean_t), (mv, var_t)):
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, tf.assign_sub(v, (v - s) * decay))
    return out


def _bn_steps(tf, x_values, use_layers):
    x = tf.placeholder(tf.as_dtype(x_values[0].dtype), x_values[0].shape)
    training = tf.placeholder(tf.bool, [])
    h = x * tf.Variable(np.full(x_values[0].shape[-1], 1.5, x_values[0].dtype))
    if use_layers:
        out = tf.layers.batch_normalization(h, momentum=0.9, epsilon=1e-6, training=training)
    else:
        out = _bn_reference(tf, h, training, 0.9, 1e-6)
    loss = tf.reduce_sum(out * np.linspace(-1, 2, out.get_shape().num_elements()).reshape(
        out.get_shape().as_list()).astype(x_values[0].dtype))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    moving = [v for v in tf.global_variables() if v not in tf.trainable_variables()]
    results = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for xv in x_values:
            results.append(sess.run([train, out, moving], {x: xv, training: True})[1:])
        results.append(sess.run([out, moving], {x: x_values[0], training: False}))
    return results


@pytest.mark.tensorflow
@pytest.mark.parametrize("shape,dtype", [((4, 3, 3, 2), np.float32), ((6, 3), np.float32),
                                         ((4, 3, 3, 2), np.float64)])
def test_batch_normalization_steps_match_tensorflow(shape, dtype):
    xs = [RNG.standard_normal(shape).astype(dtype) * 2 + 1 for _ in range(3)]
    ours = run_in_graph(tfcore, _bn_steps, xs, True)
    theirs = run_in_graph(require_tf(), _bn_steps, xs, False)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for (o, m), (to, tm) in zip(ours, theirs):
        np.testing.assert_allclose(o, to, **tol)
        for a, b in zip(m, tm):
            np.testing.assert_allclose(a, b, **tol)


# ------------------------------------------------------------------------------------------------
# Names, collections, reuse and errors (TF1's, as tf.layers gave them)
# ------------------------------------------------------------------------------------------------


def test_names_collections_and_reuse():
    tf = tfcore
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        img = tf.placeholder(tf.float32, [None, 6, 6, 2])
        l2 = tf.contrib.layers.l2_regularizer(0.1)
        a = tf.layers.dense(x, 3, activation=tf.nn.relu, kernel_regularizer=l2)
        tf.layers.dense(a, 2)
        with tf.variable_scope("outer"):
            tf.layers.dense(x, 2)
        tf.layers.dense(x, 3, name="dense", reuse=True, kernel_regularizer=l2)
        tf.layers.dense(x, 3, name="fc", reuse=tf.AUTO_REUSE)
        tf.layers.dense(x, 3, name="fc", reuse=tf.AUTO_REUSE)
        c = tf.layers.conv2d(img, 2, 3)
        tf.layers.conv2d(c, 2, 3)
        tf.layers.conv2d_transpose(img, 2, 3)
        tf.layers.batch_normalization(img, training=True)
        tf.layers.max_pooling2d(img, 2, 2)
        tf.layers.flatten(img)
        names = [v.op.name for v in tf.global_variables()]
        trainable = [v.op.name for v in tf.trainable_variables()]
        ops = [op.name for op in tf.get_default_graph().get_operations()]
        assert names == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                         "outer/dense/kernel", "outer/dense/bias", "fc/kernel", "fc/bias", "conv2d/kernel",
                         "conv2d/bias", "conv2d_1/kernel", "conv2d_1/bias", "conv2d_transpose/kernel",
                         "conv2d_transpose/bias",
                         "batch_normalization/gamma", "batch_normalization/beta",
                         "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
        assert trainable == [n for n in names if "moving" not in n]
        for name in ("dense/MatMul", "dense/BiasAdd", "dense/Relu", "dense_1/MatMul", "outer/dense/MatMul",
                     "dense_2/MatMul", "fc/MatMul", "fc_1/MatMul", "conv2d/Conv2D", "conv2d/BiasAdd",
                     "max_pooling2d/MaxPool", "flatten/Reshape", "batch_normalization/AssignMovingAvg"):
            assert name in ops, name
        assert len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == 1
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2
        with pytest.raises(ValueError, match="does not exist"):
            tf.layers.dense(x, 3, name="nope", reuse=True)
        with pytest.raises(ValueError, match="already exists"):
            tf.layers.dense(x, 3, name="fc")
        with pytest.raises(ValueError, match="channels_first"):
            tf.layers.conv2d(img, 2, 3, data_format="channels_first")
        with pytest.raises(ValueError, match="padding"):
            tf.layers.conv2d(img, 2, 3, padding="full")


def test_batch_normalization_inference_adds_no_updates():
    tf = tfcore
    with tf.Graph().as_default():
        tf.layers.batch_normalization(tf.placeholder(tf.float32, [None, 3]), training=False)
        assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []


# ------------------------------------------------------------------------------------------------
# dropout
# ------------------------------------------------------------------------------------------------


def test_dropout_identity_and_scaling():
    tf = tfcore
    x_value = RNG.uniform(1, 2, (100, 100)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, x_value.shape)
        training = tf.placeholder(tf.bool, [])
        off = tf.layers.dropout(x, rate=0.25)
        on = tf.layers.dropout(x, rate=0.25, training=True)
        fed = tf.layers.dropout(x, rate=0.25, training=training)
        with tf.Session() as sess:
            a, b = sess.run([off, on], {x: x_value})
            c_off = sess.run(fed, {x: x_value, training: False})
            c_on = sess.run(fed, {x: x_value, training: True})
    np.testing.assert_array_equal(a, x_value)
    np.testing.assert_array_equal(c_off, x_value)
    for dropped in (b, c_on):
        kept = dropped != 0
        assert abs(1 - kept.mean() - 0.25) < 0.02
        np.testing.assert_allclose(dropped[kept], x_value[kept] / 0.75, rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Gradients of a small float64 network, and a CNN trained with Adam
# ------------------------------------------------------------------------------------------------


def test_network_gradients_float64():
    tf = tfcore
    x_value = RNG.standard_normal((2, 5, 5, 3))
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float64, x_value.shape)
        h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.tanh)
        h = tf.layers.batch_normalization(h, training=True)
        h = tf.layers.max_pooling2d(h, 2, 2, padding="same")
        h = tf.layers.conv2d_transpose(h, 2, 2, strides=2, activation=tf.nn.tanh)
        out = tf.layers.dense(tf.layers.flatten(h), 3)
        loss = tf.reduce_sum(out * np.array([0.5, -1.0, 2.0]))
        variables = tf.trainable_variables()
        grads = tf.gradients(loss, [x] + variables)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = [x_value] + sess.run(variables)

            def f(arrays):
                for v, a in zip(variables, arrays[1:]):
                    v.load(a, sess)
                return float(sess.run(loss, {x: arrays[0]}))

            symbolic = sess.run(grads, {x: x_value})
            for i in (0, 1, 3, 5, 7):
                numeric = numerical_gradient(f, [a.copy() for a in values], i)
                np.testing.assert_allclose(symbolic[i], numeric, rtol=1e-5, atol=1e-6, err_msg=str(i))


def _cnn_losses(tf, images, labels, use_layers):
    kc, kd = RNG_CNN
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    if use_layers:
        h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu, kernel_initializer=_init(tf, kc))
        h = tf.layers.flatten(tf.layers.max_pooling2d(h, 2, 2))
        logits = tf.layers.dense(h, 3, kernel_initializer=_init(tf, kd))
    else:
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, tf.Variable(kc), [1, 1, 1, 1], "SAME"),
                                      tf.Variable(np.zeros(4, np.float32))))
        h = tf.reshape(tf.nn.max_pool2d(h, 2, 2, "VALID"), [-1, 64])
        logits = tf.nn.bias_add(tf.matmul(h, tf.Variable(kd)), tf.Variable(np.zeros(3, np.float32)))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return [sess.run([train, loss], {x: images})[1] for _ in range(5)]


RNG_CNN = ((RNG.standard_normal((3, 3, 1, 4)) * 0.5).astype(np.float32),
           (RNG.standard_normal((64, 3)) * 0.2).astype(np.float32))


@pytest.mark.tensorflow
def test_cnn_trained_with_adam_matches_tensorflow():
    images = RNG.random((6, 8, 8, 1)).astype(np.float32)
    labels = np.array([0, 1, 2, 0, 1, 2])
    ours = run_in_graph(tfcore, _cnn_losses, images, labels, True)
    theirs = run_in_graph(require_tf(), _cnn_losses, images, labels, False)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)
    assert ours[-1] < ours[0]


def _two_towers(tf):
    """Unnamed layers built in variable_scope("model") and again with reuse=True (train and eval
    towers, as classic TF1 code builds them)."""
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("model"):
        tf.layers.dense(tf.layers.dense(x, 4), 2)
    with tf.variable_scope("model", reuse=True):
        tf.layers.dense(tf.layers.dense(x, 4), 2)
    return sorted(v.name for v in tf.global_variables())


@pytest.mark.parametrize("name", ["tfcore", "tensorflow"])
def test_a_reused_scope_names_its_unnamed_layers_again(name):
    from tests.tfcore.harness import engine

    tf = engine(name)
    if name == "tensorflow":  # TF's own scopes, without Keras 3's missing tf.layers
        names = run_in_graph(tf, lambda tf: _scope_names(tf))
    else:
        assert run_in_graph(tf, _two_towers) == ["model/dense/bias:0", "model/dense/kernel:0",
                                                 "model/dense_1/bias:0", "model/dense_1/kernel:0"]
        names = run_in_graph(tf, lambda tf: _scope_names(tf))
    assert names == ["model/dense/k:0", "model/dense_1/k:0", "top_1"]


def _scope_names(tf):
    made = []
    for reuse in (None, True):
        with tf.variable_scope("model", reuse=reuse):
            for _ in range(2):
                with tf.variable_scope(None, default_name="dense"):
                    made.append(tf.get_variable("k", [1]).name)
    with tf.variable_scope(None, default_name="top"):
        pass
    with tf.variable_scope(None, default_name="top") as top:
        made.append(top.name)
    return sorted(set(made))
