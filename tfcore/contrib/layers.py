"""`tf.contrib.layers`: regularizers, `fully_connected` and `flatten` (tfcore/ops/layers_ops.py)."""
