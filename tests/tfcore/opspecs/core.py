"""Op specs for the core ops: identity, placeholders with defaults, stack, cast, reshape, fill and
the shape queries (tfcore/ops/array_ops.py, placeholder_ops.py, and stack from join_ops.py, cast
from math_ops.py)."""

import numpy as np

from tests.tfcore.opspecs.spec import F, OpSpec

SPECS = [
    OpSpec("identity", lambda tf, x: tf.identity(x), lambda x: x, [F(2, 3)]),
    # (the numerical check differentiates through stop_gradient; test_array_semantics checks its gradient)
    OpSpec("stop_gradient", lambda tf, x: x * tf.stop_gradient(x), lambda x: x * x, [F(2, 3)], grad=False),
    OpSpec("placeholder_with_default", lambda tf, x: tf.placeholder_with_default(x, [2, 3]) * 2.0,
           lambda x: 2 * x, [F(2, 3)]),
    OpSpec("stack/axis0", lambda tf, x, y: tf.stack([x, y]), lambda x, y: np.stack([x, y]),
           [F(2, 3), F(2, 3)]),
    OpSpec("stack/axis-1", lambda tf, x, y: tf.stack([x, y], axis=-1), lambda x, y: np.stack([x, y], -1),
           [F(2, 3), F(2, 3)]),
    OpSpec("stack/with_python_values", lambda tf, x: tf.stack([x, [1.0, 2.0]], axis=1),
           lambda x: np.stack([x, np.array([1.0, 2.0], x.dtype)], 1), [F(2)]),
    OpSpec("unstack/axis1", lambda tf, x: tf.unstack(x, axis=1), lambda x: [x[:, i] for i in range(3)],
           [F(2, 3)]),
    OpSpec("unstack/one_output_used", lambda tf, x: tf.unstack(x)[1], lambda x: x[1], [F(3, 2)]),
    OpSpec("reshape/infer", lambda tf, x: tf.reshape(x, [-1, 2]), lambda x: x.reshape(-1, 2), [F(2, 3)]),
    OpSpec("reshape/flatten", lambda tf, x: tf.reshape(x, [2, 12]), lambda x: x.reshape(2, 12), [F(2, 3, 4)]),
    OpSpec("broadcast_to", lambda tf, x: tf.broadcast_to(x, [4, 2, 3]),
           lambda x: np.broadcast_to(x, (4, 2, 3)), [F(2, 1)]),
    OpSpec("zeros_like_plus", lambda tf, x: tf.zeros_like(x) + x * 2.0, lambda x: 2 * x, [F(3)]),
    OpSpec("ones_like_times", lambda tf, x: tf.ones_like(x) * x, lambda x: x, [F(2, 2)]),
    OpSpec("zeros/dynamic_shape", lambda tf, x: tf.zeros([tf.shape(x)[0], 2], dtype=x.dtype) + 1.0,
           lambda x: np.ones((x.shape[0], 2), x.dtype), [F(3, 4)], grad=False),
    OpSpec("ones/static", lambda tf, x: tf.ones([2, 3], dtype=x.dtype) * x, lambda x: x, [F(2, 3)]),
    OpSpec("fill", lambda tf, v: tf.fill([2, 3], v), lambda v: np.full((2, 3), v), [F()]),
    OpSpec("shape", lambda tf, x: tf.shape(x), lambda x: np.array(x.shape, np.int32), [F(2, 3, 1)],
           grad=False),
    OpSpec("size", lambda tf, x: tf.size(x), lambda x: np.array(x.size, np.int32), [F(2, 3)], grad=False),
    OpSpec("rank", lambda tf, x: tf.rank(x), lambda x: np.array(x.ndim, np.int32), [F(2, 3)], grad=False),
]

# Cast between float widths, and cond (Switch/Merge): gradients flow through the taken branch.
SPECS += [
    OpSpec("cast/to_float32", lambda tf, x: tf.cast(x, tf.float32) * 2.0,
           lambda x: (2 * x).astype(np.float32),
           [F(2, 3)], dtypes=("float64",), grad=False),  # float32 rounding defeats central differences
    OpSpec("cond/true_branch", lambda tf, x: tf.cond(tf.reduce_sum(x) > 0, lambda: x * x, lambda: x * 3.0),
           lambda x: x * x, [F(2, 3, kind="positive")]),
    OpSpec("cond/false_branch", lambda tf, x: tf.cond(tf.reduce_sum(x) > 0, lambda: x * x, lambda: x * 3.0),
           lambda x: x * 3.0, [F(2, 3, kind="uniform", low=-2.0, high=-0.5)]),
]


def _grad_of(tf, loss, x):
    return tf.gradients(loss, x)[0]


# Gradient ops are differentiable too (second derivatives): each row below builds a first-order
# gradient, so the float64 check differentiates the gradient op itself (values: against TF).
SPECS += [
    OpSpec("second_order/strided_slice_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(x[1:, ::2])), x), None, [F(3, 4)]),
    OpSpec("second_order/tile_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(tf.tile(x, [2, 1]))), x), None, [F(2, 3)]),
    OpSpec("second_order/mirror_pad_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(tf.pad(x, [[1, 1], [1, 1]], "REFLECT"))), x),
           None, [F(3, 4)]),
    OpSpec("second_order/boolean_mask_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(
               tf.boolean_mask(x * 1.0, tf.constant([True, False, True])))), x), None, [F(3, 2)]),
    OpSpec("second_order/gather_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(tf.gather(x * 1.0, [0, 2, 2]))), x),
           None, [F(3, 2)]),
    OpSpec("second_order/sum_to_shape",
           lambda tf, x, b: _grad_of(tf, tf.reduce_sum(tf.square(x + b)), b), None, [F(2, 3), F(3)]),
    OpSpec("third_order/max_pool_grad_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(_grad_of(tf, tf.reduce_sum(tf.square(
               tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"))), x))), x),
           None, [F(1, 4, 4, 1, kind="distinct")]),
]
