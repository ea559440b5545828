"""Random ops: normal, truncated normal, uniform, shuffle and multinomial samples, with TF1's seeds.

Seeds, as in TensorFlow 1:
  * `set_random_seed(s)` sets the graph-level seed; each random op may also take an op-level `seed`;
  * graph seed set, op seed None: the op seed is the number of ops that asked before it in this
    graph (0, 1, 2, ...), so the same program gives the same numbers run after run;
  * op seed only: the graph seed defaults to 87654321;
  * neither: the numbers differ on every run of the program.
The pair (seed, seed2) is stored on the op. Each Session keeps one generator per random op
(`ctx.random_generator`): every `sess.run` draws new numbers, and a new Session starts the sequence
again. The numbers are not TF's (TF uses the Philox generator); their distributions are.
"""

import weakref

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.constant_folding import partial_shape_value
from tfcore.framework.graph import Tensor, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.argmax_ops import _static_int
from tfcore.ops.math_ops import add

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "set_random_seed",
    "get_seed",
    "random_normal",
    "truncated_normal",
    "random_uniform",
    "random_shuffle",
    "multinomial",
]

# ================================================================================================
# Seeds
# ================================================================================================

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1
_seeds_given = weakref.WeakKeyDictionary()  # graph -> how many ops took a seed from the graph seed


def set_random_seed(seed):
    """Set the default graph's seed: its random ops become repeatable from run to run."""
    get_default_graph().seed = seed


def get_seed(op_seed):
    """The (seed, seed2) pair a random op should use, from the graph seed and `op_seed`.

    Returns (None, None) when neither is set (a different sequence every run).
    """
    graph = get_default_graph()
    if graph.seed is not None:
        if op_seed is None:
            op_seed = _seeds_given.get(graph, 0)
            _seeds_given[graph] = op_seed + 1
        seeds = (int(graph.seed) % _MAXINT32, int(op_seed) % _MAXINT32)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed) % _MAXINT32)
    else:
        return None, None
    # NOTE: kernels read (0, 0) as "no seed", so an explicit (0, 0) becomes (0, 2^31 - 1), as in TF.
    return (0, _MAXINT32) if seeds == (0, 0) else seeds


def _seed_attrs(seed):
    seed, seed2 = get_seed(seed)
    return {"seed": seed or 0, "seed2": seed2 or 0}


def _generator(ctx, seed, seed2):
    """This session's generator for the running op ((0, 0): unseeded, different every program run)."""
    if seed == 0 and seed2 == 0:
        return ctx.random_generator(None, None)
    return ctx.random_generator(seed, seed2)


def _shape_tensor(shape):
    """A 1-D int32 tensor from a list, a TensorShape or an int tensor."""
    if isinstance(shape, Tensor):
        if not shape.dtype.base_dtype.is_integer:
            raise TypeError(f"shape must be an integer tensor, got {shape.dtype.name}")
        return shape
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    return convert_to_tensor(shape, dtype=dtypes.int32, name="shape")


def _sample_shape(inputs, dtype, **attrs):
    known = partial_shape_value(inputs[0])
    return [(TensorShape(known) if known is not None else TensorShape(None), dtype)]


def _size(shape):
    return tuple(int(d) for d in shape)


def _draw_dtype(dtype):
    # The generator draws float32 or float64; float16 is drawn in float32 and cast.
    return np.float64 if dtype == dtypes.float64 else np.float32


def _check_float(dtype, what):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if not dtype.is_floating:
        raise ValueError(f"{what} needs a floating-point dtype, got {dtype.name}")
    return dtype


# ================================================================================================
# RandomStandardNormal: random_normal = mean + stddev * N(0, 1)
# ================================================================================================


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Samples of the normal distribution N(mean, stddev^2), of the given shape."""
    return _scaled_normal("RandomStandardNormal", "random_normal", shape, mean, stddev, dtype, seed, name)


def _scaled_normal(op_type, default_name, shape, mean, stddev, dtype, seed, name):
    """mean + stddev * (a standard-normal draw by op `op_type`), named as TF names it."""
    dtype = _check_float(dtype, default_name)
    with get_default_graph().name_scope(name or default_name) as scope:
        shape = _shape_tensor(shape)
        mean = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        standard = apply_op(op_type, [shape], {"dtype": dtype, **_seed_attrs(seed)})
        return add(standard * stddev, mean, name=scope)


def _standard_normal_kernel(ctx, shape, dtype, seed, seed2):
    values = _generator(ctx, seed, seed2).standard_normal(_size(shape), dtype=_draw_dtype(dtype))
    return ctx.xp.asarray(values, dtype=dtype.as_numpy_dtype)


register_op("RandomStandardNormal", shape=_sample_shape, kernel=_standard_normal_kernel, host_only=True)
NotDifferentiable("RandomStandardNormal")


# ================================================================================================
# TruncatedNormal: N(0, 1) without the tails beyond two standard deviations
# ================================================================================================


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    """Normal samples (mean, stddev) where values further than 2 stddev from the mean are redrawn."""
    return _scaled_normal("TruncatedNormal", "truncated_normal", shape, mean, stddev, dtype, seed, name)


def _truncated_normal_kernel(ctx, shape, dtype, seed, seed2):
    generator = _generator(ctx, seed, seed2)
    draw = _draw_dtype(dtype)
    values = generator.standard_normal(_size(shape), dtype=draw)
    # NOTE: rejection sampling, vectorised: redraw all out-of-range values at once until none is
    # left (about 4.6% of them per round, so a handful of rounds).
    outside = abs(values) > 2.0
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()), dtype=draw)
        outside = abs(values) > 2.0
    return ctx.xp.asarray(values, dtype=dtype.as_numpy_dtype)


register_op("TruncatedNormal", shape=_sample_shape, kernel=_truncated_normal_kernel, host_only=True)
NotDifferentiable("TruncatedNormal")


# ================================================================================================
# RandomUniform (floats in [minval, maxval)) and RandomUniformInt (integers in [minval, maxval))
# ================================================================================================


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    """Uniform samples in [minval, maxval): floats (maxval defaults to 1) or integers (maxval needed)."""
    dtype = dtypes.as_dtype(dtype).base_dtype
    if dtype not in (dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64):
        raise ValueError(f"random_uniform: invalid dtype {dtype.name}")
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    with get_default_graph().name_scope(name or "random_uniform") as scope:
        shape = _shape_tensor(shape)
        minval = convert_to_tensor(minval, dtype=dtype, name="min")
        maxval = convert_to_tensor(maxval, dtype=dtype, name="max")
        if dtype.is_integer:
            return apply_op("RandomUniformInt", [shape, minval, maxval], _seed_attrs(seed), name=scope)
        unit = apply_op("RandomUniform", [shape], {"dtype": dtype, **_seed_attrs(seed)})
        return add(unit * (maxval - minval), minval, name=scope)


def _uniform_kernel(ctx, shape, dtype, seed, seed2):
    values = _generator(ctx, seed, seed2).random(_size(shape), dtype=_draw_dtype(dtype))
    return ctx.xp.asarray(values, dtype=dtype.as_numpy_dtype)


register_op("RandomUniform", shape=_sample_shape, kernel=_uniform_kernel, host_only=True)
NotDifferentiable("RandomUniform")


def _uniform_int_shape(inputs, seed, seed2):
    for bound in inputs[1:]:
        if bound.shape.ndims not in (None, 0):
            raise ValueError(f"minval and maxval must be scalars, got shape {bound.shape}")
    return _sample_shape(inputs[:1], inputs[1].dtype.base_dtype)


def _uniform_int_kernel(ctx, shape, minval, maxval, seed, seed2):
    low, high = int(minval), int(maxval)
    if low >= high:
        raise ValueError(f"Need minval < maxval: {low} >= {high}")
    values = _generator(ctx, seed, seed2).integers(low, high, _size(shape), dtype=minval.dtype)
    return ctx.xp.asarray(values)


register_op("RandomUniformInt", shape=_uniform_int_shape, kernel=_uniform_int_kernel, host_only=True)
NotDifferentiable("RandomUniformInt")


# ================================================================================================
# RandomShuffle: the rows (first dimension) in a random order
# ================================================================================================


def random_shuffle(value, seed=None, name=None):
    """`value` with its first dimension randomly permuted."""
    value = convert_to_tensor(value, name="value")
    return apply_op("RandomShuffle", [value], _seed_attrs(seed), name=name)


def _shuffle_kernel(ctx, value, seed, seed2):
    if value.ndim == 0 or value.shape[0] <= 1:
        return value
    order = _generator(ctx, seed, seed2).permutation(value.shape[0])
    return value[ctx.xp.asarray(order)]


register_op("RandomShuffle", shape=lambda inputs, **seeds: [(inputs[0].shape, inputs[0].dtype.base_dtype)],
            kernel=_shuffle_kernel, host_only=True)
NotDifferentiable("RandomShuffle")


# ================================================================================================
# Multinomial: draws from the categorical distributions given by rows of logits
# ================================================================================================


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """For each row of `logits` [batch, classes], `num_samples` class indices drawn with
    probabilities softmax(row); the result is [batch, num_samples] (int64 by default)."""
    output_dtype = dtypes.as_dtype(output_dtype or dtypes.int64).base_dtype
    with get_default_graph().name_scope(name or "multinomial"):
        logits = convert_to_tensor(logits, name="logits")
        attrs = {"num_samples": _static_int(num_samples, "num_samples"), "output_dtype": output_dtype,
                 **_seed_attrs(seed)}
        return apply_op("Multinomial", [logits], attrs)


def _multinomial_shape(inputs, num_samples, output_dtype, seed, seed2):
    logits = inputs[0]
    if not logits.dtype.base_dtype.is_floating:
        raise ValueError(f"logits must be floating point, got {logits.dtype.name}")
    if logits.shape.ndims not in (None, 2):
        raise ValueError(f"logits should be a matrix [batch, classes], got shape {logits.shape}")
    batch = logits.shape[0].value if logits.shape.ndims == 2 else None
    return [(TensorShape([batch, num_samples]), output_dtype)]


def _multinomial_kernel(ctx, logits, num_samples, output_dtype, seed, seed2):
    xp = ctx.xp
    logits = logits.astype(xp.float64)  # u and the cumulative sums compared in one precision
    weights = xp.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = xp.cumsum(weights, axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    uniform = xp.asarray(_generator(ctx, seed, seed2).random((logits.shape[0], num_samples)))
    # The sample is the first class whose cumulative probability exceeds u (classes with
    # probability 0 are never chosen): count the classes at or below u.
    chosen = (uniform[:, :, None] >= cumulative[:, None, :]).sum(axis=2)
    return xp.minimum(chosen, logits.shape[1] - 1).astype(output_dtype.as_numpy_dtype)


register_op("Multinomial", shape=_multinomial_shape, kernel=_multinomial_kernel, host_only=True)
NotDifferentiable("Multinomial")


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """`tf.random.categorical`: multinomial with the newer argument names."""
    return multinomial(logits, num_samples, seed=seed, name=name or "categorical", output_dtype=dtype)
