"""The digit app's model: a small LeNet-5, its shipped checkpoint, and the canvas-to-MNIST preprocessing.

    from digits import DigitModel, strokes_to_mnist
    model = DigitModel()                              # restores apps/models/lenet5_digits/lenet5.ckpt
    image = strokes_to_mnist(strokes)                 # [28, 28] float32, ink 1.0 on 0.0, like MNIST
    probabilities = model.probabilities(image)        # [10], sums to 1

The network is lesson 07's LeNet-5 made narrower so that its checkpoint stays under a megabyte:
two 5x5 convolution + 2x2 max-pool stages (16 and 32 filters), a fully connected layer of 128 units
(dropout while training) and 10 logits. `scripts/train_digit_model.py` trains it on MNIST with tfcore
and writes the checkpoint this module restores; rerun it to reproduce the shipped file.

Drawn digits look different from MNIST's, so `strokes_to_mnist` prepares them the way MNIST was
prepared: the ink's bounding box is scaled to fit 20 x 20 pixels (keeping the aspect ratio) and pasted
into a 28 x 28 frame so that its centre of mass lies at the centre.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHECKPOINT = HERE / "models" / "lenet5_digits" / "lenet5.ckpt"
"""The shipped checkpoint's prefix (tfcore's Saver adds the file suffixes)."""

CONV1_DEPTH, CONV2_DEPTH, FC_UNITS, NUM_CLASSES = 16, 32, 128, 10
CANVAS_SIZE = 280
"""The drawing canvas is 280 x 280 pixels, ten canvas pixels per MNIST pixel."""
PEN_WIDTH = 20
"""Pen width in canvas pixels: about two MNIST pixels once the digit is scaled to 20 x 20."""


def _conv_relu(tf, inputs, depth):
    """`depth` 5x5 filters (stride 1, SAME padding) plus a bias, then ReLU."""
    in_depth = inputs.get_shape().as_list()[-1]
    weights = tf.get_variable("weights", [5, 5, in_depth, depth],
                              initializer=tf.truncated_normal_initializer(stddev=0.1))
    biases = tf.get_variable("biases", [depth], initializer=tf.constant_initializer(0.0))
    conv = tf.nn.conv2d(inputs, weights, strides=[1, 1, 1, 1], padding="SAME")
    return tf.nn.relu(tf.nn.bias_add(conv, biases))


def _max_pool_2x2(tf, inputs):
    return tf.nn.max_pool(inputs, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def _fully_connected(tf, inputs, units):
    in_units = inputs.get_shape().as_list()[-1]
    weights = tf.get_variable("weights", [in_units, units],
                              initializer=tf.truncated_normal_initializer(stddev=0.1))
    biases = tf.get_variable("biases", [units], initializer=tf.constant_initializer(0.1))
    return tf.matmul(inputs, weights) + biases


def inference(tf, images, dropout_rate=None):
    """LeNet-5 logits [N, 10] for `images` [N, 28, 28, 1]; dropout on fc1 only when `dropout_rate`."""
    with tf.variable_scope("layer1-conv1"):
        conv1 = _conv_relu(tf, images, CONV1_DEPTH)
    pool1 = _max_pool_2x2(tf, conv1)
    with tf.variable_scope("layer3-conv2"):
        conv2 = _conv_relu(tf, pool1, CONV2_DEPTH)
    pool2 = _max_pool_2x2(tf, conv2)
    shape = pool2.get_shape().as_list()
    flat = tf.reshape(pool2, [-1, shape[1] * shape[2] * shape[3]])
    with tf.variable_scope("layer5-fc1"):
        fc1 = tf.nn.relu(_fully_connected(tf, flat, FC_UNITS))
        if dropout_rate:
            fc1 = tf.nn.dropout(fc1, rate=dropout_rate)
    with tf.variable_scope("layer6-fc2"):
        return _fully_connected(tf, fc1, NUM_CLASSES)


class DigitModel:
    """The trained network, restored once into its own graph and session. The checkpoint is in tfcore's
    format (the training script runs on tfcore), so tfcore is the default engine whatever
    COURSE_ENGINE says."""

    def __init__(self, checkpoint=CHECKPOINT, tf=None):
        if tf is None:
            import course

            tf = course.engine("tfcore")
        checkpoint = Path(checkpoint)
        if not Path(str(checkpoint) + ".index").is_file():
            raise FileNotFoundError(
                f"the digit model's checkpoint {checkpoint}.index is missing; "
                "recreate it with `python scripts/train_digit_model.py`")
        self.tf = tf
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, [None, 28, 28, 1], name="images")
            self.softmax = tf.nn.softmax(inference(tf, self.images), name="probabilities")
            saver = tf.train.Saver()
        self.graph.finalize()
        self.session = tf.Session(graph=self.graph)
        saver.restore(self.session, str(checkpoint))

    def probabilities(self, images):
        """Class probabilities: [10] for one [28, 28] image, [N, 10] for [N, 28, 28] or [N, 784]."""
        images = np.asarray(images, dtype=np.float32)
        single = images.shape == (28, 28)
        batch = images.reshape(-1, 28, 28, 1)
        result = self.session.run(self.softmax, {self.images: batch})
        return result[0] if single else result

    def close(self):
        self.session.close()


def render_strokes(strokes, size=CANVAS_SIZE, width=PEN_WIDTH):
    """Draw `strokes` (a list of strokes, each a list of (x, y) canvas points) as a float32 [size, size]
    image of ink: 1.0 where the pen went, 0.0 elsewhere."""
    from PIL import Image, ImageDraw

    picture = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(picture)
    radius = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            pen.line(points, fill=255, width=int(width), joint="curve")
        for x, y in points:  # round ends and joints, and a dot for a single click
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    return np.asarray(picture, dtype=np.float32) / 255.0


def to_mnist(ink):
    """A drawing (float [H, W], ink 1.0 on 0.0) as MNIST sees digits: [28, 28] float32 in 0..1, the ink's
    bounding box scaled into 20 x 20 and its centre of mass at the centre. None when nothing is drawn."""
    from PIL import Image

    ink = np.asarray(ink, dtype=np.float32)
    rows = np.flatnonzero(ink.max(axis=1) > 0.05)
    cols = np.flatnonzero(ink.max(axis=0) > 0.05)
    if rows.size == 0:
        return None
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = 20.0 / max(box.shape)
    height, width = (max(1, round(side * scale)) for side in box.shape)
    small = Image.fromarray(np.uint8(np.clip(box, 0, 1) * 255)).resize((width, height), Image.LANCZOS)
    small = np.asarray(small, dtype=np.float32) / 255.0
    # Centre of mass of the scaled digit, placed at the frame's centre (13.5, 13.5) to the nearest pixel.
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(height)).sum() / total
    cx = (small.sum(axis=0) * np.arange(width)).sum() / total
    top = int(np.clip(round(13.5 - cy), 0, 28 - height))
    left = int(np.clip(round(13.5 - cx), 0, 28 - width))
    frame = np.zeros((28, 28), dtype=np.float32)
    frame[top:top + height, left:left + width] = small
    return frame


def strokes_to_mnist(strokes):
    """`render_strokes` then `to_mnist`: the [28, 28] image the network sees, or None when empty."""
    if not any(len(stroke) for stroke in strokes):
        return None
    return to_mnist(render_strokes(strokes))
