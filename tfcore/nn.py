"""`tf.nn`: the neural-network ops (activations, convolution, pooling, losses on logits).

A namespace only: the op blocks live in tfcore/ops/nn_ops.py (and tfcore/ops/math_ops.py for
sigmoid and tanh).
"""
