"""LeNet-5 as the caicloud book builds it: conv-pool-conv-pool-fc(dropout)-fc, the flatten size
taken from the pooled tensor's static shape."""

import numpy as np

IMAGE_SIZE, NUM_CHANNELS, NUM_LABELS = 28, 1, 10
CONV1_DEEP, CONV1_SIZE = 32, 5
CONV2_DEEP, CONV2_SIZE = 64, 5
FC_SIZE = 512


def inference(tf, input_tensor, train, regularizer):
    with tf.variable_scope("layer1-conv1"):
        conv1_weights = tf.get_variable("weight", [CONV1_SIZE, CONV1_SIZE, NUM_CHANNELS, CONV1_DEEP],
                                        initializer=tf.truncated_normal_initializer(stddev=0.1))
        conv1_biases = tf.get_variable("bias", [CONV1_DEEP], initializer=tf.constant_initializer(0.0))
        conv1 = tf.nn.conv2d(input_tensor, conv1_weights, strides=[1, 1, 1, 1], padding="SAME")
        relu1 = tf.nn.relu(tf.nn.bias_add(conv1, conv1_biases))
    with tf.name_scope("layer2-pool1"):
        pool1 = tf.nn.max_pool(relu1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    with tf.variable_scope("layer3-conv2"):
        conv2_weights = tf.get_variable("weight", [CONV2_SIZE, CONV2_SIZE, CONV1_DEEP, CONV2_DEEP],
                                        initializer=tf.truncated_normal_initializer(stddev=0.1))
        conv2_biases = tf.get_variable("bias", [CONV2_DEEP], initializer=tf.constant_initializer(0.0))
        conv2 = tf.nn.conv2d(pool1, conv2_weights, strides=[1, 1, 1, 1], padding="SAME")
        relu2 = tf.nn.relu(tf.nn.bias_add(conv2, conv2_biases))
    with tf.name_scope("layer4-pool2"):
        pool2 = tf.nn.max_pool(relu2, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        pool_shape = pool2.get_shape().as_list()
        nodes = pool_shape[1] * pool_shape[2] * pool_shape[3]
        reshaped = tf.reshape(pool2, [pool_shape[0], nodes])
    with tf.variable_scope("layer5-fc1"):
        fc1_weights = tf.get_variable("weight", [nodes, FC_SIZE],
                                      initializer=tf.truncated_normal_initializer(stddev=0.1))
        if regularizer is not None:
            tf.add_to_collection("losses", regularizer(fc1_weights))
        fc1_biases = tf.get_variable("bias", [FC_SIZE], initializer=tf.constant_initializer(0.1))
        fc1 = tf.nn.relu(tf.matmul(reshaped, fc1_weights) + fc1_biases)
        if train:
            fc1 = tf.nn.dropout(fc1, 0.5)
    with tf.variable_scope("layer6-fc2"):
        fc2_weights = tf.get_variable("weight", [FC_SIZE, NUM_LABELS],
                                      initializer=tf.truncated_normal_initializer(stddev=0.1))
        if regularizer is not None:
            tf.add_to_collection("losses", regularizer(fc2_weights))
        fc2_biases = tf.get_variable("bias", [NUM_LABELS], initializer=tf.constant_initializer(0.1))
        logit = tf.matmul(fc1, fc2_weights) + fc2_biases
    return logit, {"pool1": pool1, "pool2": pool2, "reshaped": reshaped}


def program(tf, images, labels, weights):
    """Logits, loss and the gradients of every trainable variable for one batch (no dropout)."""
    batch = images.shape[0]
    x = tf.placeholder(tf.float32, [batch, IMAGE_SIZE, IMAGE_SIZE, NUM_CHANNELS], name="x-input")
    y_ = tf.placeholder(tf.int64, [batch], name="y-input")
    regularizer = tf.contrib.layers.l2_regularizer(0.0001)
    logits, parts = inference(tf, x, False, regularizer)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits, labels=y_)
    loss = tf.reduce_mean(cross_entropy) + tf.add_n(tf.get_collection("losses"))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in variables:
            v.load(weights[v.op.name], sess)
        values = sess.run({"logits": logits, "loss": loss, "grads": grads}, {x: images, y_: labels})
    values["shapes"] = {k: t.get_shape().as_list() for k, t in parts.items()}
    values["variables"] = [v.op.name for v in variables]
    return values


def make_weights(seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"layer1-conv1/weight": (5, 5, 1, 32), "layer1-conv1/bias": (32,),
              "layer3-conv2/weight": (5, 5, 32, 64), "layer3-conv2/bias": (64,),
              "layer5-fc1/weight": (7 * 7 * 64, FC_SIZE), "layer5-fc1/bias": (FC_SIZE,),
              "layer6-fc2/weight": (FC_SIZE, NUM_LABELS), "layer6-fc2/bias": (NUM_LABELS,)}
    return {k: (0.1 * rng.standard_normal(s)).astype(np.float32) for k, s in shapes.items()}
