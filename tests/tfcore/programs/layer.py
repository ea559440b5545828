"""Building one layer (the caicloud tutorial): placeholder, weights, biases, relu(xW + b)."""

import numpy as np


def program(tf, weights, inputs):
    x = tf.placeholder(tf.float32, shape=(None, 2), name="input")
    w = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1), name="weights")
    b = tf.Variable(tf.zeros([3]), name="biases")
    layer = tf.nn.relu(tf.matmul(x, w) + b)
    out = tf.reduce_sum(layer, axis=1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w.load(weights, sess)  # same starting weights on every engine
        return {"printed": str(layer), "layer": sess.run(layer, feed_dict={x: inputs}),
                "out": sess.run(out, feed_dict={x: inputs}), "names": [w.name, b.name, x.name]}


def default_inputs():
    rng = np.random.default_rng(7)
    return rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)
