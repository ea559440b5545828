"""The caicloud book's MNIST program in its three parts: inference, train, evaluate.

inference: two fully connected layers under variable scopes, weights from get_variable, their L2
penalty added to the 'losses' collection. train: sparse softmax cross-entropy + the collected
penalties, staircase exponential learning-rate decay per epoch, moving averages of the weights
grouped with the train step through control dependencies, a Saver writing checkpoints with the
global step. evaluate: a new graph restoring the moving averages (variables_to_restore) from the
latest checkpoint and reporting validation accuracy.
"""

import os

import numpy as np

INPUT_NODE, OUTPUT_NODE, LAYER1_NODE = 784, 10, 500
BATCH_SIZE = 100
LEARNING_RATE_BASE = 0.8
LEARNING_RATE_DECAY = 0.99
REGULARIZATION_RATE = 0.0001
MOVING_AVERAGE_DECAY = 0.99
MODEL_NAME = "model.ckpt"


def get_weight_variable(tf, shape, regularizer):
    weights = tf.get_variable("weights", shape, initializer=tf.truncated_normal_initializer(stddev=0.1))
    if regularizer is not None:
        tf.add_to_collection("losses", regularizer(weights))
    return weights


def inference(tf, input_tensor, regularizer):
    with tf.variable_scope("layer1"):
        weights = get_weight_variable(tf, [INPUT_NODE, LAYER1_NODE], regularizer)
        biases = tf.get_variable("biases", [LAYER1_NODE], initializer=tf.constant_initializer(0.0))
        layer1 = tf.nn.relu(tf.matmul(input_tensor, weights) + biases)
    with tf.variable_scope("layer2"):
        weights = get_weight_variable(tf, [LAYER1_NODE, OUTPUT_NODE], regularizer)
        biases = tf.get_variable("biases", [OUTPUT_NODE], initializer=tf.constant_initializer(0.0))
        layer2 = tf.matmul(layer1, weights) + biases
    return layer2


def train(tf, mnist, model_dir, steps, save_every, initial_values=None):
    """Train for `steps` steps; returns the printed log lines and the per-step losses."""
    x = tf.placeholder(tf.float32, [None, INPUT_NODE], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, OUTPUT_NODE], name="y-input")
    regularizer = tf.contrib.layers.l2_regularizer(REGULARIZATION_RATE)
    y = inference(tf, x, regularizer)
    global_step = tf.Variable(0, trainable=False)

    variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY, global_step)
    variables_averages_op = variable_averages.apply(tf.trainable_variables())
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=y, labels=tf.argmax(y_, 1))
    cross_entropy_mean = tf.reduce_mean(cross_entropy)
    loss = cross_entropy_mean + tf.add_n(tf.get_collection("losses"))
    learning_rate = tf.train.exponential_decay(
        LEARNING_RATE_BASE, global_step, mnist.train.num_examples / BATCH_SIZE, LEARNING_RATE_DECAY,
        staircase=True)
    train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)
    with tf.control_dependencies([train_step, variables_averages_op]):
        train_op = tf.no_op(name="train")

    saver = tf.train.Saver()
    log, losses = [], []
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        if initial_values is not None:  # the same starting point on every engine
            for var in tf.trainable_variables():
                var.load(initial_values[var.op.name], sess)
            for var in tf.trainable_variables():
                variable_averages.average(var).load(initial_values[var.op.name], sess)
        for i in range(steps):
            xs, ys = mnist.train.next_batch(BATCH_SIZE)
            _, loss_value, step = sess.run([train_op, loss, global_step], feed_dict={x: xs, y_: ys})
            losses.append(float(loss_value))
            if i % save_every == 0:
                # The classic program's own line, printf-style as it was written.
                log.append("After %d training step(s), loss on training batch is %g."  # noqa: UP031
                           % (step, loss_value))
                saver.save(sess, os.path.join(model_dir, MODEL_NAME), global_step=global_step)
    return log, np.array(losses)


def evaluate(tf, mnist, model_dir):
    """Restore the moving averages from the newest checkpoint; return (step, validation accuracy)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, INPUT_NODE], name="x-input")
        y_ = tf.placeholder(tf.float32, [None, OUTPUT_NODE], name="y-input")
        validate_feed = {x: mnist.validation.images, y_: mnist.validation.labels}
        y = inference(tf, x, None)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        variable_averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY)
        variables_to_restore = variable_averages.variables_to_restore()
        saver = tf.train.Saver(variables_to_restore)
        with tf.Session() as sess:
            ckpt = tf.train.get_checkpoint_state(model_dir)
            if not (ckpt and ckpt.model_checkpoint_path):
                return None, None
            saver.restore(sess, ckpt.model_checkpoint_path)
            global_step = ckpt.model_checkpoint_path.split("/")[-1].split("-")[-1]
            return global_step, float(sess.run(accuracy, feed_dict=validate_feed))


def initial_values(seed=0):
    """Weights drawn once (truncated normal, stddev 0.1), biases zero: shared by both engines."""
    rng = np.random.default_rng(seed)

    def truncated(shape):
        w = rng.standard_normal(shape)
        while np.any(np.abs(w) > 2):
            bad = np.abs(w) > 2
            w[bad] = rng.standard_normal(bad.sum())
        return (0.1 * w).astype(np.float32)
    return {"layer1/weights": truncated((INPUT_NODE, LAYER1_NODE)),
            "layer1/biases": np.zeros(LAYER1_NODE, np.float32),
            "layer2/weights": truncated((LAYER1_NODE, OUTPUT_NODE)),
            "layer2/biases": np.zeros(OUTPUT_NODE, np.float32)}
