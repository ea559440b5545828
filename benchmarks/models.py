"""The benchmark models as plain TensorFlow 1 code, written once against a parameter `tf`.

`tf` is `tfcore` or `tensorflow.compat.v1` in TF1 mode (`course.engine.tensorflow_v1()`); nothing
here knows which. Starting weights and inputs come from NumPy with a fixed seed, so every engine
starts from the same numbers. Each `build_*` function builds into the current default graph and
returns a `types.SimpleNamespace` of the tensors and ops a workload runs.
"""

import types

import numpy as np

from course.style import vgg

BATCH = 100
SEED = 2024

# --- inputs -------------------------------------------------------------------------------------


def mnist_like_batch(batch=BATCH, images=False, seed=SEED):
    """A random MNIST-shaped batch: pixels in [0, 1) ([batch, 784] or NHWC [batch, 28, 28, 1]) and
    int64 labels in 0..9. The benchmarks time the engine, not data loading, so no MNIST file is read."""
    rng = np.random.default_rng(seed)
    pixels = rng.random((batch, 784), dtype=np.float32)
    labels = rng.integers(0, 10, size=batch).astype(np.int64)
    return (pixels.reshape(batch, 28, 28, 1) if images else pixels), labels


def truncated_normal(rng, shape, stddev):
    """NumPy's version of `tf.truncated_normal`: normal draws, redrawn beyond two standard deviations."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return (values * stddev).astype(np.float32)


# --- MLP 784-500-10 -----------------------------------------------------------------------------

MLP_HIDDEN = 500
MLP_LEARNING_RATE = 0.1


def mlp_weights(seed=SEED):
    """[w1, b1, w2, b2] of the 784-500-10 network: truncated normal (stddev 0.1) weights, zero biases."""
    rng = np.random.default_rng(seed)
    return [truncated_normal(rng, (784, MLP_HIDDEN), 0.1), np.zeros(MLP_HIDDEN, np.float32),
            truncated_normal(rng, (MLP_HIDDEN, 10), 0.1), np.zeros(10, np.float32)]


def build_mlp(tf, seed=SEED):
    """784 -> 500 ReLU -> 10, mean sparse softmax cross-entropy, one plain SGD step per run of `train_op`."""
    w1, b1, w2, b2 = (tf.Variable(value, name=name)
                      for value, name in zip(mlp_weights(seed), ["w1", "b1", "w2", "b2"]))
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.matmul(hidden, w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = tf.train.GradientDescentOptimizer(MLP_LEARNING_RATE).minimize(loss)
    return types.SimpleNamespace(x=x, y=y, logits=logits, loss=loss, train_op=train_op,
                                 init=tf.global_variables_initializer())


# --- LeNet-5, as lesson 07 trains it ------------------------------------------------------------

CONV1_DEPTH, CONV2_DEPTH, FC_UNITS = 32, 64, 512
LENET_LEARNING_RATE = 0.001  # Adam
DROPOUT_RATE = 0.5
REGULARIZATION_RATE = 1e-4  # L2 on the fully connected weights


def lenet_weights(seed=SEED):
    """LeNet-5's starting values, in the order of `LENET_NAMES`: weights truncated normal (stddev 0.1),
    convolution biases 0, fully connected biases 0.1 (as lesson 07 initialises them)."""
    rng = np.random.default_rng(seed)
    return [
        truncated_normal(rng, (5, 5, 1, CONV1_DEPTH), 0.1), np.zeros(CONV1_DEPTH, np.float32),
        truncated_normal(rng, (5, 5, CONV1_DEPTH, CONV2_DEPTH), 0.1), np.zeros(CONV2_DEPTH, np.float32),
        truncated_normal(rng, (7 * 7 * CONV2_DEPTH, FC_UNITS), 0.1), np.full(FC_UNITS, 0.1, np.float32),
        truncated_normal(rng, (FC_UNITS, 10), 0.1), np.full(10, 0.1, np.float32),
    ]


LENET_NAMES = ["conv1/weights", "conv1/biases", "conv2/weights", "conv2/biases",
               "fc1/weights", "fc1/biases", "fc2/weights", "fc2/biases"]


def build_lenet(tf, seed=SEED):
    """Lesson 07's LeNet-5: conv 5x5x32 SAME + ReLU, 2x2 max pool, conv 5x5x64 SAME + ReLU, 2x2 max pool,
    fc 512 + ReLU (dropout 0.5 in the training tower), fc 10; loss = mean sparse softmax
    cross-entropy + 1e-4 * L2 of the fc weights; Adam(0.001). A training tower (`train_op`, `loss`)
    and an inference tower (`logits`, no dropout) share the weights."""
    params = {}
    for name, value in zip(LENET_NAMES, lenet_weights(seed)):
        scope, var = name.split("/")
        with tf.variable_scope(scope):
            params[name] = tf.Variable(value, name=var)

    def tower(images, train):
        def conv_relu(inputs, layer):
            conv = tf.nn.conv2d(inputs, params[f"{layer}/weights"], strides=[1, 1, 1, 1], padding="SAME")
            return tf.nn.relu(tf.nn.bias_add(conv, params[f"{layer}/biases"]))

        def max_pool_2x2(inputs):
            return tf.nn.max_pool(inputs, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

        pool2 = max_pool_2x2(conv_relu(max_pool_2x2(conv_relu(images, "conv1")), "conv2"))
        flat = tf.reshape(pool2, [-1, 7 * 7 * CONV2_DEPTH])
        fc1 = tf.nn.relu(tf.matmul(flat, params["fc1/weights"]) + params["fc1/biases"])
        if train:
            fc1 = tf.nn.dropout(fc1, rate=DROPOUT_RATE)
        return tf.matmul(fc1, params["fc2/weights"]) + params["fc2/biases"]

    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    train_logits = tower(x, train=True)
    logits = tower(x, train=False)
    cross_entropy = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(logits=train_logits,
                                                                                   labels=y))
    penalty = REGULARIZATION_RATE * (tf.nn.l2_loss(params["fc1/weights"])
                                     + tf.nn.l2_loss(params["fc2/weights"]))
    loss = cross_entropy + penalty
    global_step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.AdamOptimizer(LENET_LEARNING_RATE).minimize(loss, global_step=global_step)
    return types.SimpleNamespace(x=x, y=y, logits=logits, loss=loss, train_op=train_op,
                                 init=tf.global_variables_initializer())


# --- VGG19 up to conv5_1 and one neural-style (Gatys) iteration ----------------------------------

VGG19_LAYERS = vgg.layers_up_to("relu5_1")  # the course's VGG19 layer names (lesson 08), to conv5_1
VGG19_DEPTHS = {"1": 64, "2": 128, "3": 256, "4": 512, "5": 512}
VGG_MEAN = np.array([123.68, 116.779, 103.939], np.float32)  # RGB means the VGG weights expect
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 5.0, 500.0, 100.0
STYLE_LEARNING_RATE = 10.0  # Adam on the pixels


def vgg19_weights(seed=SEED):
    """Random VGG19 convolution weights up to conv5_1: {layer: (kernel [3, 3, in, out], bias [out])}.

    He-normal kernels (stddev sqrt(2 / fan_in)) keep the activations at a steady scale through the 13
    layers, so no layer under- or overflows (the real weights are not in the course's data).
    """
    rng = np.random.default_rng(seed)
    weights, depth = {}, 3
    for layer in VGG19_LAYERS:
        if layer.startswith("conv"):
            out = VGG19_DEPTHS[layer[4]]
            stddev = np.float32(np.sqrt(2 / (9 * depth)))
            kernel = rng.standard_normal((3, 3, depth, out), dtype=np.float32) * stddev
            weights[layer] = (kernel, np.zeros(out, np.float32))
            depth = out
    return weights


def vgg19(tf, image, weights):
    """The VGG19 layers up to relu5_1 on `image` ([1, H, W, 3], mean-subtracted): {layer name: tensor}.

    `weights` maps each conv layer to its (kernel, bias) tensors; max pooling, as the classic
    TensorFlow neural-style programs use by default."""
    net, current = {}, image
    for layer in VGG19_LAYERS:
        kind = layer[:4]
        if kind == "conv":
            kernel, bias = weights[layer]
            conv = tf.nn.conv2d(current, kernel, strides=[1, 1, 1, 1], padding="SAME")
            current = tf.nn.bias_add(conv, bias)
        elif kind == "relu":
            current = tf.nn.relu(current)
        else:
            current = tf.nn.max_pool(current, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        net[layer] = current
    return net


def gram(tf, features):
    """The Gram matrix of a [1, H, W, C] feature map, divided by its number of values."""
    _, height, width, channels = features.get_shape().as_list()
    flat = tf.reshape(features, [-1, channels])
    return tf.matmul(flat, flat, transpose_a=True) / float(height * width * channels)


def style_images(size, seed=SEED):
    """A random content and style image, [1, size, size, 3] float32 in 0..255."""
    rng = np.random.default_rng(seed + 1)
    return (rng.random((2, 1, size, size, 3), dtype=np.float32) * 255).astype(np.float32)


def build_style(tf, size, seed=SEED):
    """One Gatys neural-style iteration on a `size` x `size` image: the image is the only variable;
    loss = content (relu4_2) + style (Gram matrices of relu1_1..relu5_1) + total variation; Adam(10).

    The targets (content features, style Grams) are computed by the same network in the same graph,
    through a placeholder (`target_input`); `set_targets(sess)` runs that part once and feeds the
    results to the loss through placeholders kept in `target_feed`, so a run of `train_op` needs
    `feed` (the targets) and nothing else."""
    weights = {layer: (tf.constant(kernel, name=f"{layer}/kernel"), tf.constant(bias, name=f"{layer}/bias"))
               for layer, (kernel, bias) in vgg19_weights(seed).items()}
    content_image, style_image = style_images(size, seed)

    target_input = tf.placeholder(tf.float32, [1, size, size, 3], name="target_input")
    target_net = vgg19(tf, target_input - VGG_MEAN, weights)
    target_content = target_net[CONTENT_LAYER]
    target_grams = [gram(tf, target_net[layer]) for layer in STYLE_LAYERS]

    image = tf.Variable(content_image, name="image")  # start from the content image
    net = vgg19(tf, image - VGG_MEAN, weights)
    content_ph = tf.placeholder(tf.float32, target_content.get_shape().as_list(), name="content_target")
    gram_phs = [tf.placeholder(tf.float32, g.get_shape().as_list(), name=f"style_target_{i}")
                for i, g in enumerate(target_grams)]
    content_size = float(np.prod(target_content.get_shape().as_list()))
    content_loss = CONTENT_WEIGHT * 2 * tf.nn.l2_loss(net[CONTENT_LAYER] - content_ph) / content_size
    style_losses = []
    for layer, target in zip(STYLE_LAYERS, gram_phs):
        channels = target.get_shape().as_list()[0]
        style_losses.append(2 * tf.nn.l2_loss(gram(tf, net[layer]) - target) / float(channels * channels))
    style_loss = STYLE_WEIGHT * tf.add_n(style_losses) / float(len(STYLE_LAYERS))
    tv_y = tf.nn.l2_loss(image[:, 1:, :, :] - image[:, :-1, :, :]) / float(3 * (size - 1) * size)
    tv_x = tf.nn.l2_loss(image[:, :, 1:, :] - image[:, :, :-1, :]) / float(3 * (size - 1) * size)
    tv_loss = TV_WEIGHT * 2 * (tv_y + tv_x)
    loss = content_loss + style_loss + tv_loss
    train_op = tf.train.AdamOptimizer(STYLE_LEARNING_RATE).minimize(loss, var_list=[image])
    ns = types.SimpleNamespace(loss=loss, train_op=train_op, init=tf.global_variables_initializer(), feed={})

    def set_targets(sess):
        content_value = sess.run(target_content, {target_input: content_image})
        gram_values = sess.run(target_grams, {target_input: style_image})
        ns.feed = {content_ph: content_value, **dict(zip(gram_phs, gram_values))}

    ns.set_targets = set_targets
    return ns
