"""`tf.layers.batch_normalization`: normalise with the batch's statistics in training, the moving
ones in inference, and keep the moving ones up to date through UPDATE_OPS.

The layer makes `gamma` and `beta` (trainable; left out with scale=False / center=False) and
`moving_mean` and `moving_variance` (not trainable, global) in its scope. Built with training on
(True or a bool tensor) it adds two ops to the UPDATE_OPS collection, one per moving statistic:

    moving <- moving - (moving - batch statistic) * (1 - momentum)

Nothing runs them unless the program does, so classic TF1 code wraps its train op:

    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = optimizer.minimize(loss)

NOTE: TF runs 4-D inputs normalised over their channel axis (float32) through its fused kernel,
whose variance for the moving average carries Bessel's correction, n / (n - 1) for n values per
channel, and whose epsilon is at least 1.001e-5; other inputs (2-D, float64, fused=False) use
the plain batch variance. tfcore computes the same numbers with ordinary ops in both cases.
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, get_default_graph
from tfcore.ops import array_ops, math_ops, nn_ops, variables
from tfcore.ops.init_ops import ones_initializer
from tfcore.ops.layers_core import (
    ZEROS,
    check_floating,
    layer_scope,
    layer_variable,
    reject_constraints,
    smart_cond,
    static_bool,
)
from tfcore.ops.layers_nn import batch_normalization as nn_batch_normalization
from tfcore.ops.scopes import name_scope

# Public names; tfcore/layers.py exports them as tf.layers.<name>.
__all__ = ["batch_normalization"]

# TF's default for gamma and the moving variance (beta and the moving mean start at ZEROS).
ONES = ones_initializer()

# The smallest epsilon TF's fused batch norm accepts (a cuDNN limit it applies on every device).
_FUSED_MIN_EPSILON = 1.001e-5


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=ZEROS, gamma_initializer=ONES,
                        moving_mean_initializer=ZEROS,
                        moving_variance_initializer=ONES, beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                        training=False, trainable=True, name=None, reuse=None, renorm=False,
                        renorm_clipping=None, renorm_momentum=0.99, fused=None, virtual_batch_size=None,
                        adjustment=None):
    """gamma * (inputs - mean) / sqrt(variance + epsilon) + beta, per index of `axis` (the channel
    axis by default): the batch's mean and variance when `training`, the moving ones otherwise.

    NOTE: the default `training=False` normalises with the moving statistics (initially 0 and 1):
    pass `training=True` (or a bool tensor) while training, and run the UPDATE_OPS.
    """
    reject_constraints("batch_normalization", beta_constraint=beta_constraint,
                       gamma_constraint=gamma_constraint)
    if renorm or virtual_batch_size is not None or adjustment is not None:
        raise NotImplementedError("tf.layers.batch_normalization: renorm, virtual_batch_size and "
                                  "adjustment are not supported by tfcore")
    inputs = check_floating(inputs, "batch_normalization")
    shape = inputs.get_shape()
    if shape.ndims is None:
        raise ValueError(f"Input has undefined rank. Received: input_shape={shape}.")
    axes = _normalized_axes(axis, shape.ndims)
    if any(shape[a].value is None for a in axes):
        raise ValueError(f"Axis {axis} of input tensor should have a defined dimension but the layer "
                         f"received an input with shape {shape}.")
    dtype = inputs.dtype.base_dtype
    fused = fused is not False and shape.ndims == 4 and len(axes) == 1 and axes[0] in (1, 3) \
        and dtype in (dtypes.float16, dtypes.float32)
    eps = max(epsilon, _FUSED_MIN_EPSILON) if fused else epsilon
    param_shape = [shape[axes[0]].value] if len(axes) == 1 else \
        [shape[i].value if i in axes else 1 for i in range(shape.ndims)]
    with layer_scope(name, "batch_normalization", reuse):
        gamma = layer_variable("gamma", param_shape, dtype, gamma_initializer, gamma_regularizer,
                               trainable) if scale else None
        beta = layer_variable("beta", param_shape, dtype, beta_initializer, beta_regularizer,
                              trainable) if center else None
        moving_mean = layer_variable("moving_mean", param_shape, dtype, moving_mean_initializer, None, False)
        moving_variance = layer_variable("moving_variance", param_shape, dtype, moving_variance_initializer,
                                         None, False)
        if static_bool(training) is False:  # inference only: no batch statistics, no updates
            mean, variance = array_ops.identity(moving_mean), array_ops.identity(moving_variance)
        else:
            reduction = [i for i in range(shape.ndims) if i not in axes]
            batch_mean, batch_variance = nn_ops.moments(inputs, reduction, keep_dims=len(axes) > 1)
            _add_updates(inputs, training, momentum, fused, (moving_mean, batch_mean),
                         (moving_variance, batch_variance))
            mean = smart_cond(training, lambda: batch_mean, lambda: array_ops.identity(moving_mean))
            variance = smart_cond(training, lambda: batch_variance,
                                  lambda: array_ops.identity(moving_variance))
        broadcast = _broadcaster(shape.ndims, axes)
        outputs = nn_batch_normalization(inputs, broadcast(mean), broadcast(variance), broadcast(beta),
                                         broadcast(gamma), eps)
        outputs.set_shape(shape)
        return outputs


def _normalized_axes(axis, ndims):
    """`axis` (an int or a list) as a sorted list of non-negative axes of a rank-`ndims` input."""
    axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
    normalized = sorted({int(a) + ndims if a < 0 else int(a) for a in axes})
    if len(normalized) != len(axes) or any(not 0 <= a < ndims for a in normalized):
        raise ValueError(f"Invalid axis: {axis} (the input has rank {ndims})")
    return normalized


def _broadcaster(ndims, axes):
    """A function reshaping a [C] statistic or parameter so that it broadcasts along `axes` of the
    input (None stays None); the channel-last case needs no reshape."""
    if len(axes) > 1 or axes == [ndims - 1]:
        return lambda t: t
    shape = [-1 if i == axes[0] else 1 for i in range(ndims)]
    return lambda t: None if t is None else array_ops.reshape(t, shape)


def _add_updates(inputs, training, momentum, fused, *pairs):
    """One AssignSub per (moving variable, batch statistic) into UPDATE_OPS:
    moving - (moving - statistic) * decay, with decay = 1 - momentum when training and 0 when a
    `training` tensor turns out False (the variable then keeps its value).

    The decay is rounded as TF rounds it: the fused kernel's path takes 1 - momentum in float32 at
    run time; the other path in Python, as a float32 constant, cast to the variable's dtype.
    """
    graph = get_default_graph()
    dtype = inputs.dtype.base_dtype
    if fused:
        momentum_t = smart_cond(training, lambda: np.float32(momentum), lambda: np.float32(1.0))
        decay = math_ops.subtract(np.float32(1.0), momentum_t, name="decay")
    else:
        decay = smart_cond(training, lambda: np.float32(1.0 - momentum), lambda: np.float32(0.0))
    decay = math_ops.cast(decay, dtype)
    for i, (variable, statistic) in enumerate(pairs):
        if fused and i == 1:  # the fused kernel's moving variance: the unbiased batch variance
            statistic = math_ops.multiply(statistic, _bessel_factor(inputs, statistic))
        with name_scope("AssignMovingAvg") as scope:
            delta = math_ops.multiply(math_ops.subtract(variable, statistic), decay)
            update = variables.assign_sub(variable, delta, name=scope)
        graph.add_to_collection(GraphKeys.UPDATE_OPS, update.op)


def _bessel_factor(inputs, statistic):
    """n / (n - 1), n the number of values behind each entry of the statistic (N*H*W per channel)."""
    dtype = inputs.dtype.base_dtype
    n = math_ops.real_div(math_ops.cast(array_ops.size(inputs), dtype),
                          math_ops.cast(array_ops.size(statistic), dtype))
    return math_ops.real_div(n, math_ops.subtract(n, np.asarray(1, dtype.as_numpy_dtype)))
