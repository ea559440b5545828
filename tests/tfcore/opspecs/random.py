"""Op specs for the random family (tfcore/ops/random_ops.py).

Random numbers cannot match TensorFlow's, so the samples themselves are tested in
tests/tfcore/test_random_ops.py (statistics, bounds, seeds). The rows here are the deterministic
uses of random ops, whose values and gradients can be compared: a zero spread gives back the mean
(and the gradient reaches the mean), a shuffle keeps the sum, certain classes are always drawn.
"""

import numpy as np

from tests.tfcore.opspecs.spec import F, Fixed, I, OpSpec

SPECS = [
    OpSpec("random_normal/zero_stddev_gives_mean",
           lambda tf, m: tf.random_normal([2, 3], mean=m, stddev=0.0, dtype=m.dtype),
           lambda m: np.broadcast_to(m, (2, 3)), [F(3)]),
    OpSpec("truncated_normal/zero_stddev_gives_mean",
           lambda tf, m: tf.truncated_normal([4, 3], mean=m, stddev=0.0, dtype=m.dtype, seed=1),
           lambda m: np.broadcast_to(m, (4, 3)), [F(3)]),
    OpSpec("random_uniform/equal_bounds", lambda tf, b: tf.random_uniform([2, 3], b, b, dtype=b.dtype),
           lambda b: np.full((2, 3), b), [F()]),
    OpSpec("random_uniform/int_single_value",
           lambda tf, x: tf.random_uniform(tf.shape(x), 4, 5, dtype=tf.int32),
           lambda x: np.full(x.shape, 4, np.int32), [I(2, 3)], grad=False),
    OpSpec("random_shuffle/keeps_column_sums", lambda tf, x: tf.reduce_sum(tf.random_shuffle(x), 0),
           lambda x: x.sum(0), [F(5, 3)], grad=False),
    OpSpec("multinomial/certain_classes", lambda tf, logits: tf.multinomial(logits, 6),
           lambda logits: np.array([[1] * 6, [0] * 6], np.int64),
           [Fixed([[-np.inf, 0.0, -np.inf], [0.0, -np.inf, -np.inf]])], grad=False),
]
