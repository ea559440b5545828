"""`tf.image`: resizing NHWC images (nearest neighbour, bilinear, TF1's `resize_images`).

A namespace only: the op blocks live in tfcore/ops/image_ops.py (its `__all__` is what appears here).
"""

# ruff: noqa: F403 - this module re-exports

from tfcore.ops.image_ops import *
