"""Op specs for the math ops (tfcore/ops/math_ops.py, elementwise_ops.py, binary_ops.py,
comparison_ops.py, reduction_ops.py, argmax_ops.py, cumulative_ops.py, clip_ops.py, and
check_numerics from check_numerics_ops.py).

Rows named ".../grad_at_ties" (and similar) fetch gradients as outputs at points where central
differences cannot check them (ties, kinks, zeros): there the reference states TF's convention and
the comparison against TensorFlow confirms it.
"""

import numpy as np

from tests.tfcore.opspecs.spec import B, F, Fixed, I, OpSpec


def D(*shape):
    """A float input of distinct values (no ties: max, min, argmax)."""
    return F(*shape, kind="distinct")


def _grads_of(fn):
    """A build that returns d(sum(fn(...)))/d(input) for every input."""
    return lambda tf, *xs: tf.gradients(tf.reduce_sum(fn(tf, *xs)), list(xs))


def _unknown_rank(tf, x):
    """`x` with its static shape forgotten: not even its rank is known when the graph is built."""
    return tf.placeholder_with_default(x, shape=None)


def _vector(tf, t):
    """`t` flattened: a reduction of an unknown-rank input has an unknown rank, TF's `as_list` none."""
    return tf.reshape(t, [-1])


def _lse(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _tf_floormod(x, y):
    return x - np.floor(x / y) * y


def _clip_by_norm(x, clip, axes=None):
    norm = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    return x * clip / np.maximum(norm, clip)


def _clip_by_global_norm(xs, clip):
    norm = np.sqrt(sum(np.sum(x * x) for x in xs))
    return [x * clip / max(norm, clip) for x in xs] + [np.asarray(norm, xs[0].dtype)]


def _exclusive(x, fn, identity, axis):
    out = fn(x, axis=axis)
    first = np.full_like(np.take(x, [0], axis=axis), identity)
    return np.concatenate([first, np.delete(out, -1, axis=axis)], axis=axis)


TIES_X = [1.0, 2.0, 3.0, 0.0, -2.0]
TIES_Y = [1.0, 3.0, 2.0, 0.0, 2.0]
MAX_TIES = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
CLIP_X = [-1.0, 0.0, 0.5, 1.0, 2.0]

SPECS = [
    # --- arithmetic (math_ops.py), sum and mean -------------------------------------------------
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

    # --- unary elementwise ----------------------------------------------------------------------
    OpSpec("square", lambda tf, x: tf.square(x), np.square, [F(2, 3)]),
    OpSpec("square/int", lambda tf, x: tf.square(x), np.square, [I(2, 3, low=-4, high=4)], grad=False),
    OpSpec("sqrt", lambda tf, x: tf.sqrt(x), np.sqrt, [F(2, 3, kind="positive")]),
    OpSpec("rsqrt", lambda tf, x: tf.rsqrt(x), lambda x: 1 / np.sqrt(x), [F(2, 3, kind="positive")]),
    OpSpec("exp", lambda tf, x: tf.exp(x), np.exp, [F(2, 3)]),
    OpSpec("log", lambda tf, x: tf.log(x), np.log, [F(2, 3, kind="positive")]),
    OpSpec("log1p", lambda tf, x: tf.log1p(x), np.log1p, [F(2, 3, kind="uniform", low=-0.5, high=2.0)]),
    OpSpec("abs", lambda tf, x: tf.abs(x), np.abs, [F(2, 3, kind="away")]),
    OpSpec("abs/operator", lambda tf, x: abs(x), np.abs, [F(2, 3, kind="away")]),
    OpSpec("abs/int", lambda tf, x: tf.abs(x), np.abs, [Fixed([-3, 0, 2])], grad=False),
    OpSpec("abs/grad_at_zero", _grads_of(lambda tf, x: tf.abs(x)), lambda x: [np.sign(x)],
           [Fixed([-1.0, 0.0, 2.0])], grad=False),
    OpSpec("sign", lambda tf, x: tf.sign(x), np.sign, [F(2, 3, kind="away")]),
    OpSpec("sign/int", lambda tf, x: tf.sign(x), np.sign, [Fixed([-3, 0, 2])], grad=False),
    OpSpec("sign/grad_at_zero", _grads_of(lambda tf, x: tf.sign(x)), lambda x: [np.zeros_like(x)],
           [Fixed([-1.0, 0.0, 2.0])], grad=False),
    OpSpec("reciprocal", lambda tf, x: tf.reciprocal(x), np.reciprocal, [F(2, 3, kind="away")]),
    OpSpec("sigmoid", lambda tf, x: tf.sigmoid(x), lambda x: 1 / (1 + np.exp(-x)), [F(2, 3)]),
    OpSpec("sigmoid/saturated", lambda tf, x: tf.sigmoid(x), lambda x: 1 / (1 + np.exp(-x)),
           [Fixed([-40.0, -5.0, 0.0, 5.0, 40.0], differentiable=True)]),
    OpSpec("tanh", lambda tf, x: tf.tanh(x), np.tanh, [F(2, 3)]),
    OpSpec("floor", lambda tf, x: tf.floor(x), np.floor, [F(2, 3, kind="uniform", low=-3, high=3)],
           grad=False),
    OpSpec("ceil", lambda tf, x: tf.ceil(x), np.ceil, [F(2, 3, kind="uniform", low=-3, high=3)], grad=False),
    OpSpec("round", lambda tf, x: tf.round(x), np.round, [F(2, 3, kind="uniform", low=-3, high=3)],
           grad=False),
    OpSpec("round/half_to_even", lambda tf, x: tf.round(x), np.round, [Fixed([0.5, 1.5, 2.5, -0.5, -1.5])],
           grad=False),
    OpSpec("is_finite", lambda tf, x: [tf.is_finite(x), tf.is_nan(x), tf.is_inf(x)],
           lambda x: [np.isfinite(x), np.isnan(x), np.isinf(x)], [Fixed([1.0, np.inf, -np.inf, np.nan])],
           grad=False),
    OpSpec("check_numerics", lambda tf, x: tf.check_numerics(x, "x is finite") * 2.0, lambda x: 2 * x,
           [F(2, 3)]),

    # --- binary elementwise ---------------------------------------------------------------------
    OpSpec("pow", lambda tf, x, y: tf.pow(x, y), np.power, [F(2, 3, kind="positive"), F(2, 3)]),
    OpSpec("pow/broadcast", lambda tf, x, y: tf.pow(x, y), np.power, [F(2, 3, kind="positive"), F(3)]),
    OpSpec("pow/operator_square", lambda tf, x: x ** 2.0, np.square, [F(2, 3)]),
    OpSpec("pow/operator_reflected", lambda tf, x: 2.0 ** x, lambda x: np.power(2.0, x).astype(x.dtype),
           [F(2, 3)]),
    OpSpec("pow/int", lambda tf, x: tf.pow(x, 3), lambda x: x ** 3, [I(2, 3, low=-3, high=4)], grad=False),
    OpSpec("pow/grad_nonpositive_base", _grads_of(lambda tf, x, y: tf.pow(x, y)),
           lambda x, y: [y * x ** (y - 1), np.where(x > 0, x ** y * np.log(np.where(x > 0, x, 1)), 0)],
           [Fixed([-2.0, 0.0, 3.0]), Fixed([2.0, 2.0, 2.0])], grad=False),
    OpSpec("maximum", lambda tf, x, y: tf.maximum(x, y), np.maximum, [F(2, 3), F(2, 3)]),
    OpSpec("maximum/broadcast", lambda tf, x, y: tf.maximum(x, y), np.maximum, [F(2, 3), F(3)]),
    OpSpec("maximum/scalar", lambda tf, x: tf.maximum(x, 0.1), lambda x: np.maximum(x, x.dtype.type(0.1)),
           [F(2, 3, kind="away")]),
    OpSpec("maximum/grad_at_ties", _grads_of(lambda tf, x, y: tf.maximum(x, y)),
           lambda x, y: [(x >= y).astype(x.dtype), (x < y).astype(x.dtype)],
           [Fixed(TIES_X), Fixed(TIES_Y)], grad=False),
    OpSpec("minimum", lambda tf, x, y: tf.minimum(x, y), np.minimum, [F(2, 3), F(2, 3)]),
    OpSpec("minimum/broadcast", lambda tf, x, y: tf.minimum(x, y), np.minimum, [F(2, 1), F(1, 3)]),
    OpSpec("minimum/grad_at_ties", _grads_of(lambda tf, x, y: tf.minimum(x, y)),
           lambda x, y: [(x <= y).astype(x.dtype), (x > y).astype(x.dtype)],
           [Fixed(TIES_X), Fixed(TIES_Y)], grad=False),
    OpSpec("squared_difference", lambda tf, x, y: tf.squared_difference(x, y), lambda x, y: (x - y) ** 2,
           [F(2, 3), F(2, 3)]),
    OpSpec("squared_difference/broadcast", lambda tf, x, y: tf.squared_difference(x, y),
           lambda x, y: (x - y) ** 2, [F(2, 3), F(2, 1)]),
    OpSpec("floordiv", lambda tf, x, y: tf.floordiv(x, y), lambda x, y: np.floor(x / y),
           [F(2, 3, kind="uniform", low=-4, high=4), F(2, 3, kind="away")], grad=False),
    OpSpec("floordiv/operator_broadcast", lambda tf, x, y: x // y, lambda x, y: np.floor(x / y),
           [F(2, 3, kind="uniform", low=-4, high=4), F(3, kind="away")], grad=False),
    OpSpec("floordiv/int", lambda tf, x, y: x // y, np.floor_divide,
           [Fixed([[-7, 7, 5], [-3, 0, 9]]), Fixed([[2, -2, 3], [2, -3, -4]])], grad=False),
    OpSpec("floor_div", lambda tf, x, y: tf.floor_div(x, y), lambda x, y: np.floor(x / y),
           [F(2, 3, kind="uniform", low=-4, high=4), F(2, 3, kind="positive")], grad=False),
    OpSpec("div/int_floors", lambda tf, x, y: tf.div(x, y), np.floor_divide,
           [Fixed([-7, 7, 6]), Fixed([2, 2, -4])], grad=False),
    OpSpec("floormod", lambda tf, x, y: tf.floormod(x, y), _tf_floormod,
           [F(2, 3, kind="uniform", low=-4, high=4), F(2, 3, kind="away")]),
    OpSpec("floormod/mod_broadcast", lambda tf, x, y: tf.mod(x, y), _tf_floormod,
           [F(2, 3, kind="uniform", low=-4, high=4), F(3, kind="positive")]),
    OpSpec("floormod/operator", lambda tf, x: x % 0.75, lambda x: _tf_floormod(x, x.dtype.type(0.75)),
           [F(2, 3, kind="uniform", low=-4, high=4)]),
    OpSpec("floormod/int", lambda tf, x, y: x % y, np.mod,
           [Fixed([[-7, 7, 5], [-3, 0, 9]]), Fixed([[3, -3, 3], [2, -3, -4]])], grad=False),
    OpSpec("scalar_mul", lambda tf, x: tf.scalar_mul(3.0, x), lambda x: 3 * x, [F(2, 3)]),

    # --- comparisons and logical ops ------------------------------------------------------------
    OpSpec("equal", lambda tf, x, y: tf.equal(x, y), np.equal, [I(2, 3, high=3), I(2, 3, high=3)],
           grad=False),
    OpSpec("equal/broadcast_bool", lambda tf, x, y: tf.equal(x, y), np.equal, [B(2, 3), B(3)], grad=False),
    OpSpec("not_equal", lambda tf, x, y: tf.not_equal(x, y), np.not_equal, [I(2, 3, high=3), I(3, high=3)],
           grad=False),
    OpSpec("less", lambda tf, x, y: tf.less(x, y), np.less, [F(2, 3), F(2, 3)], grad=False),
    OpSpec("less/operator_scalar", lambda tf, x: x < 0.25, lambda x: x < 0.25, [F(2, 3)], grad=False),
    OpSpec("less_equal", lambda tf, x, y: tf.less_equal(x, y), np.less_equal, [I(2, 3, high=3), I(3, high=3)],
           grad=False),
    OpSpec("less_equal/operator", lambda tf, x, y: x <= y, np.less_equal, [F(2, 3), F(3)], grad=False),
    OpSpec("greater/broadcast", lambda tf, x, y: tf.greater(x, y), np.greater, [F(2, 3), F(3)], grad=False),
    OpSpec("greater/operator_reflected", lambda tf, x: 0.25 < x, lambda x: x > 0.25, [F(2, 3)], grad=False),
    OpSpec("greater_equal", lambda tf, x, y: tf.greater_equal(x, y), np.greater_equal,
           [I(2, 3, high=3), I(2, 1, high=3)], grad=False),
    OpSpec("greater_equal/operator", lambda tf, x, y: x >= y, np.greater_equal, [F(2, 3), F(2, 3)],
           grad=False),
    OpSpec("logical_and", lambda tf, x, y: tf.logical_and(x, y), np.logical_and, [B(2, 3), B(2, 3)],
           grad=False),
    OpSpec("logical_and/operator_broadcast", lambda tf, x, y: x & y, np.logical_and, [B(2, 3), B(3)],
           grad=False),
    OpSpec("logical_or", lambda tf, x, y: tf.logical_or(x, y), np.logical_or, [B(2, 3), B(2, 3)], grad=False),
    OpSpec("logical_or/operator", lambda tf, x, y: x | y, np.logical_or, [B(2, 3), B(2, 1)], grad=False),
    OpSpec("logical_not", lambda tf, x: tf.logical_not(x), np.logical_not, [B(2, 3)], grad=False),
    OpSpec("logical_not/operator", lambda tf, x: ~x, np.logical_not, [B(2, 3)], grad=False),
    OpSpec("logical_xor", lambda tf, x, y: tf.logical_xor(x, y), np.logical_xor, [B(2, 3), B(2, 3)],
           grad=False),
    OpSpec("logical_xor/operator", lambda tf, x, y: x ^ y, np.logical_xor, [B(2, 3), B(3)], grad=False),
    OpSpec("bitwise/int_operators", lambda tf, x, y: [x & y, x | y, x ^ y, ~x],
           lambda x, y: [x & y, x | y, x ^ y, ~x], [I(2, 3, high=16), I(2, 3, high=16)], grad=False),

    # --- reductions -----------------------------------------------------------------------------
    OpSpec("reduce_max/all", lambda tf, x: tf.reduce_max(x), np.max, [D(2, 3)]),
    OpSpec("reduce_max/axis1", lambda tf, x: tf.reduce_max(x, axis=1), lambda x: x.max(1),
           [D(2, 3)]),
    OpSpec("reduce_max/keepdims", lambda tf, x: tf.reduce_max(x, 0, keepdims=True),
           lambda x: x.max(0, keepdims=True), [D(2, 3)]),
    OpSpec("reduce_max/reduction_indices_keep_dims",
           lambda tf, x: tf.reduce_max(x, reduction_indices=[0, 2], keep_dims=True),
           lambda x: x.max((0, 2), keepdims=True), [D(2, 3, 4)]),
    OpSpec("reduce_max/int", lambda tf, x: tf.reduce_max(x, 1), lambda x: x.max(1), [I(2, 3)], grad=False),
    OpSpec("reduce_max/grad_at_ties", _grads_of(lambda tf, x: tf.reduce_max(x, 1)),
           lambda x: [np.array([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], x.dtype)], [Fixed(MAX_TIES)],
           grad=False),
    OpSpec("reduce_max/grad_at_ties_all", _grads_of(lambda tf, x: tf.reduce_max(x)),
           lambda x: [np.array([[0, 0.5, 0.5], [0, 0, 0]], x.dtype)], [Fixed(MAX_TIES)], grad=False),
    OpSpec("reduce_min/all", lambda tf, x: tf.reduce_min(x), np.min, [D(2, 3)]),
    OpSpec("reduce_min/axis-1_keepdims", lambda tf, x: tf.reduce_min(x, -1, keepdims=True),
           lambda x: x.min(-1, keepdims=True), [D(3, 4)]),
    OpSpec("reduce_min/axes02", lambda tf, x: tf.reduce_min(x, [0, 2]), lambda x: x.min((0, 2)),
           [D(2, 3, 4)]),
    OpSpec("reduce_min/grad_at_ties", _grads_of(lambda tf, x: tf.reduce_min(x, 0)),
           lambda x: [np.array([[1, 0, 0], [0, 1, 1]], x.dtype)],
           [Fixed([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], grad=False),
    OpSpec("reduce_prod/all", lambda tf, x: tf.reduce_prod(x), np.prod, [F(2, 3)]),
    OpSpec("reduce_prod/axis1", lambda tf, x: tf.reduce_prod(x, 1), lambda x: x.prod(1), [F(2, 3)]),
    OpSpec("reduce_prod/keepdims", lambda tf, x: tf.reduce_prod(x, 0, keepdims=True),
           lambda x: x.prod(0, keepdims=True), [F(3, 2)]),
    OpSpec("reduce_prod/axes02", lambda tf, x: tf.reduce_prod(x, [2, 0]), lambda x: x.prod((0, 2)),
           [F(2, 3, 4, kind="uniform", low=0.5, high=1.5)]),
    OpSpec("reduce_prod/int", lambda tf, x: tf.reduce_prod(x, 0), lambda x: x.prod(0), [I(2, 3)], grad=False),
    OpSpec("reduce_prod/grad_with_zeros", _grads_of(lambda tf, x: tf.reduce_prod(x, 1)),
           lambda x: [np.array([[6, 0, 0], [0, 0, 0]], x.dtype)], [Fixed([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]])],
           grad=False),
    OpSpec("reduce_prod/grad_one_zero_all", _grads_of(lambda tf, x: tf.reduce_prod(x)),
           lambda x: [np.array([[0, 0], [6, 0]], x.dtype)], [Fixed([[1.0, 2.0], [0.0, 3.0]])], grad=False),
    OpSpec("reduce_all", lambda tf, x: tf.reduce_all(x), np.all, [B(2, 3)], grad=False),
    OpSpec("reduce_all/axis0", lambda tf, x: tf.reduce_all(x, 0), lambda x: x.all(0), [B(3, 2)], grad=False),
    OpSpec("reduce_any/axis1_keepdims", lambda tf, x: tf.reduce_any(x, 1, keepdims=True),
           lambda x: x.any(1, keepdims=True), [B(3, 2)], grad=False),
    OpSpec("reduce_any/all", lambda tf, x: tf.reduce_any(x), np.any, [B(2, 3)], grad=False),
    OpSpec("reduce_logsumexp/all", lambda tf, x: tf.reduce_logsumexp(x), _lse, [F(2, 3)]),
    OpSpec("reduce_logsumexp/axis1", lambda tf, x: tf.reduce_logsumexp(x, 1), lambda x: _lse(x, 1),
           [F(2, 3)]),
    OpSpec("reduce_logsumexp/keepdims", lambda tf, x: tf.reduce_logsumexp(x, 0, keepdims=True),
           lambda x: _lse(x, 0, keepdims=True), [F(2, 3)]),
    OpSpec("reduce_logsumexp/large", lambda tf, x: tf.reduce_logsumexp(x * 100.0, [0, 2]),
           lambda x: _lse(x * 100, (0, 2)), [F(2, 3, 2)]),
    OpSpec("reduce_logsumexp/minus_inf_row", lambda tf, x: tf.reduce_logsumexp(x, 1),
           lambda x: np.array([-np.inf, np.log(np.exp(1) + np.exp(2))], x.dtype),
           [Fixed([[-np.inf, -np.inf], [1.0, 2.0]])], grad=False),
    # reductions of an input whose rank is unknown: the gradient's shape is worked out at run time
    OpSpec("reduce_sum/unknown_rank", lambda tf, x: tf.reduce_sum(_unknown_rank(tf, x)), np.sum, [F(2, 3)]),
    OpSpec("reduce_sum/squeezed_unknown_rank",
           lambda tf, x: tf.reduce_sum(tf.squeeze(tf.placeholder_with_default(x, [None, 1]))), np.sum,
           [F(3, 1)]),
    OpSpec("reduce_sum/unknown_rank_axis1", lambda tf, x: _vector(tf, tf.reduce_sum(_unknown_rank(tf, x), 1)),
           lambda x: x.sum(1).ravel(), [F(2, 3, 2)]),
    OpSpec("reduce_mean/unknown_rank_axis-1",
           lambda tf, x: _vector(tf, tf.reduce_mean(_unknown_rank(tf, x), -1)), lambda x: x.mean(-1).ravel(),
           [F(2, 3)]),
    OpSpec("reduce_max/unknown_rank_axes",
           lambda tf, x: _vector(tf, tf.reduce_max(_unknown_rank(tf, x), [0, -1])),
           lambda x: x.max((0, 2)).ravel(), [D(2, 3, 2)]),
    OpSpec("reduce_prod/unknown_rank", lambda tf, x: tf.reduce_prod(_unknown_rank(tf, x)), np.prod,
           [F(2, 3)]),
    OpSpec("reduce_prod/unknown_rank_axes",
           lambda tf, x: _vector(tf, tf.reduce_prod(_unknown_rank(tf, x), [0, -1])),
           lambda x: x.prod((0, 2)).ravel(), [F(2, 3, 2)]),
    OpSpec("reduce_logsumexp/unknown_rank_axis1",
           lambda tf, x: _vector(tf, tf.reduce_logsumexp(_unknown_rank(tf, x), 1)),
           lambda x: _lse(x, 1).ravel(), [F(2, 3)]),
    OpSpec("argmax/axis1", lambda tf, x: tf.argmax(x, 1), lambda x: x.argmax(1), [D(2, 3)],
           grad=False),
    OpSpec("argmax/default_axis0", lambda tf, x: tf.argmax(x), lambda x: x.argmax(0), [D(3, 2)],
           grad=False),
    OpSpec("argmax/dimension_int32", lambda tf, x: tf.argmax(x, dimension=-1, output_type=tf.int32),
           lambda x: x.argmax(-1).astype(np.int32), [D(2, 3, 4)], grad=False),
    OpSpec("argmax/first_of_ties", lambda tf, x: tf.argmax(x, 1), lambda x: x.argmax(1), [Fixed(MAX_TIES)],
           grad=False),
    OpSpec("arg_max", lambda tf, x: tf.arg_max(x, 1), lambda x: x.argmax(1), [D(2, 3)],
           grad=False),
    OpSpec("argmin/axis0", lambda tf, x: tf.argmin(x, axis=0), lambda x: x.argmin(0), [D(2, 3)],
           grad=False),
    OpSpec("argmin/int", lambda tf, x: tf.argmin(x, 1), lambda x: x.argmin(1), [I(3, 4, high=9)], grad=False),
    OpSpec("arg_min", lambda tf, x: tf.arg_min(x, 0), lambda x: x.argmin(0), [D(2, 3)],
           grad=False),

    # --- where, cumulative sums -----------------------------------------------------------------
    OpSpec("where/coordinates", lambda tf, c: tf.where(c), lambda c: np.argwhere(c), [B(3, 4)], grad=False),
    OpSpec("where/coordinates_of_numbers", lambda tf, c: tf.where(c), lambda c: np.argwhere(c),
           [I(2, 3, high=2)], grad=False),
    OpSpec("where/select", lambda tf, c, x, y: tf.where(c, x, y), np.where, [B(2, 3), F(2, 3), F(2, 3)]),
    OpSpec("where/select_vector_condition", lambda tf, c, x, y: tf.where(c, x, y),
           lambda c, x, y: np.where(c[:, None, None], x, y), [B(3), F(3, 2, 2), F(3, 2, 2)]),
    OpSpec("where/select_scalar_condition", lambda tf, c, x, y: tf.where(c, x, y), np.where,
           [Fixed(True), F(2, 3), F(2, 3)]),
    OpSpec("where/select_python_value", lambda tf, c, x: tf.where(c, x, [2.0, 2.0, 2.0, 2.0]),
           lambda c, x: np.where(c, x, x.dtype.type(2.0)), [B(4), F(4)]),
    OpSpec("cumsum", lambda tf, x: tf.cumsum(x), lambda x: np.cumsum(x, 0), [F(3, 2)]),
    OpSpec("cumsum/axis1_exclusive", lambda tf, x: tf.cumsum(x, 1, exclusive=True),
           lambda x: _exclusive(x, np.cumsum, 0, 1), [F(2, 4)]),
    OpSpec("cumsum/reverse", lambda tf, x: tf.cumsum(x, 1, reverse=True),
           lambda x: np.flip(np.cumsum(np.flip(x, 1), 1), 1), [F(2, 4)]),
    OpSpec("cumsum/reverse_exclusive", lambda tf, x: tf.cumsum(x, -1, exclusive=True, reverse=True),
           lambda x: np.flip(_exclusive(np.flip(x, 1), np.cumsum, 0, 1), 1), [F(2, 4)]),
    OpSpec("cumprod", lambda tf, x: tf.cumprod(x, 1), lambda x: np.cumprod(x, 1), [F(2, 4, kind="away")]),
    OpSpec("cumprod/exclusive_reverse", lambda tf, x: tf.cumprod(x, 0, exclusive=True, reverse=True),
           lambda x: np.flip(_exclusive(np.flip(x, 0), np.cumprod, 1, 0), 0), [F(3, 2, kind="away")]),

    # --- clipping -------------------------------------------------------------------------------
    OpSpec("clip_by_value", lambda tf, x: tf.clip_by_value(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
           [F(3, 4)]),
    OpSpec("clip_by_value/tensor_bounds", lambda tf, x, lo, hi: tf.clip_by_value(x, lo, hi), np.clip,
           [F(3, 4), Fixed(-0.3, differentiable=True), Fixed(0.4, differentiable=True)]),
    OpSpec("clip_by_value/grad_at_bounds", _grads_of(lambda tf, x: tf.clip_by_value(x, 0.0, 1.0)),
           lambda x: [((x >= 0) & (x <= 1)).astype(x.dtype)], [Fixed(CLIP_X)], grad=False),
    OpSpec("clip_by_value/int", lambda tf, x: tf.clip_by_value(x, 1, 3), lambda x: np.clip(x, 1, 3),
           [I(2, 3)], grad=False),
    OpSpec("clip_by_norm", lambda tf, x: tf.clip_by_norm(x, 1.0), lambda x: _clip_by_norm(x, 1.0), [F(2, 3)]),
    OpSpec("clip_by_norm/not_clipped", lambda tf, x: tf.clip_by_norm(x * 0.1, 5.0),
           lambda x: x * x.dtype.type(0.1), [F(2, 3)]),
    OpSpec("clip_by_norm/axes", lambda tf, x: tf.clip_by_norm(x, 1.0, axes=[1]),
           lambda x: _clip_by_norm(x, 1.0, axes=1), [F(3, 4)]),
    OpSpec("global_norm", lambda tf, x, y: tf.global_norm([x, y]),
           lambda x, y: np.sqrt(np.sum(x * x) + np.sum(y * y)), [F(2, 3), F(4)]),
    OpSpec("clip_by_global_norm",
           lambda tf, x, y: (lambda r: r[0] + [r[1]])(tf.clip_by_global_norm([x, y], 1.5)),
           lambda x, y: _clip_by_global_norm([x, y], 1.5), [F(2, 3), F(4)]),
    OpSpec("clip_by_global_norm/not_clipped_with_none",
           lambda tf, x, y: (lambda r: [r[0][0], r[0][2], r[1]])(tf.clip_by_global_norm([x, None, y], 50.0)),
           lambda x, y: _clip_by_global_norm([x, y], 50.0), [F(2, 3), F(4)]),
]
