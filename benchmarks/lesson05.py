"""Lesson 05's MNIST training program (lessons/05_mnist_fully_connected.ipynb), for `--full-lesson`.

The lesson keeps its model in notebook cells, not in an importable module, so this is a copy of its
`inference`, `build_training_graph` and `train` with the same settings (784-500-10, batch 100, learning
rate 0.8 decayed by 0.99 per epoch, L2 1e-4, moving averages 0.99, a validation-accuracy point every
200 steps, a checkpoint every 1000 steps and after the last), written against a parameter `tf`. Only
the progress bar is left out. `train` is what the lesson times as `training_seconds`; its full run
is 10,000 steps. If the lesson's program changes, change this copy with it.
"""

import os
import shutil
import types

INPUT_PIXELS = 784
HIDDEN_UNITS = 500
NUM_CLASSES = 10

BATCH_SIZE = 100
LEARNING_RATE = 0.8
LEARNING_RATE_DECAY = 0.99
REGULARIZATION_RATE = 1e-4
MOVING_AVERAGE_DECAY = 0.99

TRAINING_STEPS = 10000  # the lesson's full mode
PRINT_EVERY = 1000
VALIDATE_EVERY = 200
MODEL_NAME = "model.ckpt"


def weight_variable(tf, shape, regularizer):
    weights = tf.get_variable("weights", shape, initializer=tf.truncated_normal_initializer(stddev=0.1))
    if regularizer is not None:
        tf.add_to_collection("losses", regularizer(weights))
    return weights


def inference(tf, images, regularizer=None):
    with tf.variable_scope("layer1"):
        weights = weight_variable(tf, [INPUT_PIXELS, HIDDEN_UNITS], regularizer)
        biases = tf.get_variable("biases", [HIDDEN_UNITS], initializer=tf.constant_initializer(0.0))
        hidden = tf.nn.relu(tf.matmul(images, weights) + biases)
    with tf.variable_scope("layer2"):
        weights = weight_variable(tf, [HIDDEN_UNITS, NUM_CLASSES], regularizer)
        biases = tf.get_variable("biases", [NUM_CLASSES], initializer=tf.constant_initializer(0.0))
        logits = tf.matmul(hidden, weights) + biases
    return logits


def build_training_graph(tf, num_examples):
    x = tf.placeholder(tf.float32, [None, INPUT_PIXELS], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, NUM_CLASSES], name="y-input")
    logits = inference(tf, x, tf.contrib.layers.l2_regularizer(REGULARIZATION_RATE))
    global_step = tf.Variable(0, trainable=False, name="global_step")

    averages = tf.train.ExponentialMovingAverage(MOVING_AVERAGE_DECAY, global_step)
    averages_op = averages.apply(tf.trainable_variables())

    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=tf.argmax(y_, 1))
    loss = tf.reduce_mean(cross_entropy) + tf.add_n(tf.get_collection("losses"))

    learning_rate = tf.train.exponential_decay(LEARNING_RATE, global_step, num_examples / BATCH_SIZE,
                                               LEARNING_RATE_DECAY, staircase=True)
    train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)
    with tf.control_dependencies([train_step, averages_op]):
        train_op = tf.no_op(name="train")

    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    return types.SimpleNamespace(x=x, y_=y_, loss=loss, accuracy=accuracy, global_step=global_step,
                                 learning_rate=learning_rate, train_op=train_op)


def train(tf, mnist, model_dir, steps=TRAINING_STEPS, log=print, config=None):
    """Train from scratch, saving checkpoints in `model_dir`; return the history (as the lesson does).
    `config`: the session's `ConfigProto` (None, as in the lesson, unless --threads asks for one)."""
    tf.reset_default_graph()
    g = build_training_graph(tf, mnist.train.num_examples)
    saver = tf.train.Saver()
    shutil.rmtree(model_dir, ignore_errors=True)
    os.makedirs(model_dir)
    validation_feed = {g.x: mnist.validation.images, g.y_: mnist.validation.labels}
    history = {"loss": [], "val_step": [], "val_accuracy": []}
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(steps):
            xs, ys = mnist.train.next_batch(BATCH_SIZE)
            _, loss_value, step = sess.run([g.train_op, g.loss, g.global_step], feed_dict={g.x: xs, g.y_: ys})
            history["loss"].append(loss_value)
            if step % VALIDATE_EVERY == 0:
                history["val_step"].append(step)
                history["val_accuracy"].append(sess.run(g.accuracy, feed_dict=validation_feed))
            if i % PRINT_EVERY == 0 or step == steps:
                log(f"After {step} training step(s), loss on training batch is {loss_value:g}.")
                saver.save(sess, os.path.join(model_dir, MODEL_NAME), global_step=g.global_step)
    return history
