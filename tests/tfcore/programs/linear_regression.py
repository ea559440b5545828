"""The first TF program of the course: fit y = 0.1 x + 0.3 by gradient descent (wiibrew)."""

import numpy as np


def program(tf, steps=201, w0=-0.5):
    rng = np.random.default_rng(0)
    x_data = rng.random(100).astype(np.float32)
    y_data = x_data * 0.1 + 0.3

    W = tf.Variable(tf.random_uniform([1], -1.0, 1.0), name="W")
    b = tf.Variable(tf.zeros([1]), name="b")
    y = W * x_data + b
    loss = tf.reduce_mean(tf.square(y - y_data))
    optimizer = tf.train.GradientDescentOptimizer(0.5)
    train = optimizer.minimize(loss)

    trajectory = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        W.load(np.array([w0], np.float32), sess)  # one starting point for every engine
        for _ in range(steps):
            sess.run(train)
            trajectory.append([float(sess.run(W)[0]), float(sess.run(b)[0]), float(sess.run(loss))])
    return np.array(trajectory)
