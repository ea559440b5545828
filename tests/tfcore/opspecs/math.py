"""Op specs for math ops (tfcore/ops/math_ops.py)."""

import numpy as np

from tests.tfcore.opspecs.spec import F, OpSpec

SPECS = [
    OpSpec("add", lambda tf, x, y: tf.add(x, y), np.add, [F(2, 3), F(2, 3)]),
    OpSpec("add/broadcast", lambda tf, x, y: x + y, np.add, [F(2, 3), F(3)]),
    OpSpec("subtract/broadcast", lambda tf, x, y: tf.subtract(x, y), np.subtract, [F(2, 1), F(1, 3)]),
    OpSpec("multiply/broadcast", lambda tf, x, y: x * y, np.multiply, [F(4, 1, 3), F(2, 1)]),
    OpSpec("divide", lambda tf, x, y: x / y, np.divide, [F(2, 3), F(2, 3, kind="positive")]),
    OpSpec("negative", lambda tf, x: -x, np.negative, [F(5)]),
    OpSpec("add_n", lambda tf, x, y, z: tf.add_n([x, y, z]), lambda x, y, z: x + y + z, [F(2, 2)] * 3),
    OpSpec("matmul", lambda tf, a, b: tf.matmul(a, b), np.matmul, [F(2, 3), F(3, 4)]),
    OpSpec("matmul/transpose_a", lambda tf, a, b: tf.matmul(a, b, transpose_a=True), lambda a, b: a.T @ b,
           [F(3, 2), F(3, 4)]),
    OpSpec("matmul/transpose_b", lambda tf, a, b: tf.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T,
           [F(2, 3), F(4, 3)]),
    OpSpec("matmul/transpose_both", lambda tf, a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
           lambda a, b: a.T @ b.T, [F(3, 2), F(4, 3)]),
    OpSpec("cast/float64", lambda tf, x: tf.cast(x, tf.float64), lambda x: x.astype(np.float64), [F(3)]),
    OpSpec("reduce_sum/all", lambda tf, x: tf.reduce_sum(x), np.sum, [F(2, 3)]),
    OpSpec("reduce_sum/axis1", lambda tf, x: tf.reduce_sum(x, axis=1), lambda x: x.sum(1), [F(2, 3)]),
    OpSpec("reduce_sum/keepdims", lambda tf, x: tf.reduce_sum(x, 0, keepdims=True),
           lambda x: x.sum(0, keepdims=True), [F(2, 3)]),
    OpSpec("reduce_sum/reduction_indices", lambda tf, x: tf.reduce_sum(x, reduction_indices=[0, 2]),
           lambda x: x.sum((0, 2)), [F(2, 3, 4)]),
    OpSpec("reduce_mean/all", lambda tf, x: tf.reduce_mean(x), np.mean, [F(2, 3)]),
    OpSpec("reduce_mean/axis-1", lambda tf, x: tf.reduce_mean(x, -1), lambda x: x.mean(-1), [F(2, 3)]),
]
