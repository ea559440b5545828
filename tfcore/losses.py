"""`tf.losses`: loss functions that add themselves to the LOSSES collection (tfcore/ops/losses_ops.py)."""
