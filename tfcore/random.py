"""`tf.random`: random sampling and seeds (tfcore/ops/random_ops.py)."""

# ruff: noqa: F401
from tfcore.ops.random_ops import categorical, get_seed, multinomial, set_random_seed, truncated_normal
from tfcore.ops.random_ops import random_normal as normal
from tfcore.ops.random_ops import random_shuffle as shuffle
from tfcore.ops.random_ops import random_uniform as uniform
