"""`tf.contrib.layers`: regularizers, initializers, `fully_connected` and `flatten`.

Nothing here is a new op: a layer is variables (made with `get_variable` inside a
`variable_scope`, so they are named `fully_connected/weights` as in TF1) and ordinary ops.
"""

import math
import numbers

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, convert_to_tensor, get_default_graph
from tfcore.ops import (
    activation_ops,
    array_ops,
    elementwise_ops,
    join_ops,
    math_ops,
    nn_ops,
    random_ops,
    reduction_ops,
)
from tfcore.ops.constant_op import constant
from tfcore.ops.init_ops import compute_fans, zeros_initializer
from tfcore.ops.scopes import get_variable, name_scope, variable_scope
from tfcore.platform import tf_logging

# Public names; tfcore/contrib/layers.py exports them as tf.contrib.layers.<name>.
__all__ = [
    "l1_regularizer",
    "l2_regularizer",
    "l1_l2_regularizer",
    "sum_regularizer",
    "apply_regularization",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
    "fully_connected",
    "flatten",
]


# ================================================================================================
# Regularizers: functions weights -> scalar penalty tensor (or None)
# ================================================================================================


def _check_scale(scale):
    """TF1's checks on a regularizer scale; False when the scale is 0 (the regularizer is off)."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale}")
        if scale == 0.0:
            tf_logging.info("Scale of 0 disables regularizer.")
            return False
    return True


def l2_regularizer(scale, scope=None):
    """A regularizer returning scale * l2_loss(weights) = scale * sum(weights ** 2) / 2."""
    if not _check_scale(scale):
        return lambda _: None

    def l2(weights):
        with name_scope(scope, "l2_regularizer") as name:
            weights = convert_to_tensor(weights)
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return math_ops.multiply(my_scale, nn_ops.l2_loss(weights), name=name)
    return l2


def l1_regularizer(scale, scope=None):
    """A regularizer returning scale * sum(|weights|)."""
    if not _check_scale(scale):
        return lambda _: None

    def l1(weights):
        with name_scope(scope, "l1_regularizer") as name:
            weights = convert_to_tensor(weights)
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            l1_norm = reduction_ops.reduce_sum(elementwise_ops.abs(weights))
            return math_ops.multiply(my_scale, l1_norm, name=name)
    return l1


def sum_regularizer(regularizer_list, scope=None):
    """A regularizer returning the sum of what each regularizer in the list returns."""
    regularizer_list = [r for r in regularizer_list if r]
    if not regularizer_list:
        return None

    def regularize(weights):
        with name_scope(scope, "sum_regularizer") as name:
            penalties = [p for p in (r(weights) for r in regularizer_list) if p is not None]
            return math_ops.add_n(penalties, name=name)
    return regularize


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """scale_l1 * sum(|w|) + scale_l2 * sum(w ** 2) / 2."""
    if isinstance(scale_l1, numbers.Integral):
        raise ValueError(f"scale_l1 cannot be an integer: {scale_l1}")
    if isinstance(scale_l2, numbers.Integral):
        raise ValueError(f"scale_l2 cannot be an integer: {scale_l2}")
    scope = scope or "l1_l2_regularizer"
    if scale_l1 == 0.0:
        return l2_regularizer(scale_l2, scope)
    if scale_l2 == 0.0:
        return l1_regularizer(scale_l1, scope)
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def apply_regularization(regularizer, weights_list=None):
    """Sum regularizer(w) over `weights_list` (default: the WEIGHTS collection) and add the sum to
    REGULARIZATION_LOSSES."""
    graph = get_default_graph()
    if not weights_list:
        weights_list = graph.get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with name_scope("get_regularization_penalty") as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [constant(0.0) if p is None else p for p in penalties]
        for p in penalties:
            if p.get_shape().ndims != 0:
                raise ValueError(f"regularizer must return a scalar Tensor instead of a Tensor with rank "
                                 f"{p.get_shape().ndims}.")
        total = math_ops.add_n(penalties, name=scope)
        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, total)
        return total


# ================================================================================================
# Initializers (contrib's versions)
# ================================================================================================


def variance_scaling_initializer(factor=2.0, mode="FAN_IN", uniform=False, seed=None, dtype=dtypes.float32):
    """Random weights with variance factor / n (n: FAN_IN, FAN_OUT or FAN_AVG of the shape).

    uniform: in [-sqrt(3 factor / n), sqrt(3 factor / n)); else a truncated normal with stddev
    sqrt(1.3 factor / n) (contrib's constant). The default is He et al.'s initialisation.
    """
    if not dtypes.as_dtype(dtype).is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")

    def initializer(shape, dtype=dtype, partition_info=None):
        if not dtypes.as_dtype(dtype).is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        fan_in, fan_out = compute_fans(shape)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_ops.random_uniform(shape, -limit, limit, dtype, seed=seed)
        return random_ops.truncated_normal(shape, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed)
    return initializer


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """Glorot & Bengio's initialiser: uniform in +-sqrt(6 / (fan_in + fan_out)) (or a truncated normal)."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


xavier_initializer_conv2d = xavier_initializer


# ================================================================================================
# Layers
# ================================================================================================


def _variable_collections(variables_collections, name):
    if isinstance(variables_collections, dict):
        variables_collections = variables_collections.get(name)
    if variables_collections is None:
        return []
    return [variables_collections] if isinstance(variables_collections, str) else list(variables_collections)


def _model_variable(name, shape, dtype, initializer, regularizer, trainable, variables_collections):
    """A layer variable: global, in MODEL_VARIABLES, and in any collections the caller names."""
    collections = _variable_collections(variables_collections, name)
    collections += [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                        trainable=trainable, collections=collections)


def _collect_outputs(outputs_collections, alias, outputs):
    if outputs_collections:
        outputs.alias = alias
        get_default_graph().add_to_collections(outputs_collections, outputs)
    return outputs


# TF1's defaults: one initializer object each, shared by every layer that does not pass its own.
_DEFAULT_WEIGHTS_INITIALIZER = xavier_initializer()
_DEFAULT_BIASES_INITIALIZER = zeros_initializer()


def fully_connected(inputs, num_outputs, activation_fn=activation_ops.relu, normalizer_fn=None,
                    normalizer_params=None, weights_initializer=_DEFAULT_WEIGHTS_INITIALIZER,
                    weights_regularizer=None, biases_initializer=_DEFAULT_BIASES_INITIALIZER,
                    biases_regularizer=None, reuse=None,
                    variables_collections=None, outputs_collections=None, trainable=True, scope=None):
    """activation_fn(inputs @ weights + biases), with `weights` [in, num_outputs] and `biases`
    [num_outputs] made in the variable scope `scope` (default "fully_connected", made unique:
    "fully_connected_1", ...). biases_initializer=None (or a normalizer_fn) leaves out the biases;
    activation_fn=None gives a linear layer.
    """
    if not isinstance(num_outputs, int | np.integer):
        raise ValueError(f"num_outputs type should be one of (int, long), got {type(num_outputs)}.")
    with variable_scope(scope, default_name="fully_connected", values=[inputs], reuse=reuse) as sc:
        inputs = convert_to_tensor(inputs, name="inputs")
        dtype = inputs.dtype.base_dtype
        shape = inputs.get_shape()
        if shape.ndims is None or shape.ndims < 2:
            raise ValueError(f"Inputs to fully_connected must have rank >= 2, got shape {shape}")
        depth = shape[-1].value
        if depth is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        weights = _model_variable("weights", [depth, int(num_outputs)], dtype, weights_initializer,
                                  weights_regularizer, trainable, variables_collections)
        flat = inputs if shape.ndims == 2 else array_ops.reshape(inputs, [-1, depth])
        outputs = math_ops.matmul(flat, weights)
        if shape.ndims > 2:
            leading = shape.as_list()[:-1]
            if sum(d is None for d in leading) > 1:
                raise ValueError(f"fully_connected on rank-{shape.ndims} inputs needs all but one leading "
                                 f"dimension known, got {shape}")
            out_shape = [-1 if d is None else d for d in leading] + [int(num_outputs)]
            outputs = array_ops.reshape(outputs, out_shape)
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        elif biases_initializer is not None:
            biases = _model_variable("biases", [int(num_outputs)], dtype, biases_initializer,
                                     biases_regularizer, trainable, variables_collections)
            outputs = nn_ops.bias_add(outputs, biases)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return _collect_outputs(outputs_collections, sc.name, outputs)


def flatten(inputs, outputs_collections=None, scope=None):
    """[batch, d1, d2, ...] -> [batch, d1 * d2 * ...], keeping the batch dimension (even when unknown)."""
    with name_scope(scope, "Flatten") as sc:
        inputs = convert_to_tensor(inputs, name="inputs")
        shape = inputs.get_shape()
        if shape.ndims is None or shape.ndims < 1:
            raise ValueError(f"Inputs to flatten must have a known rank of at least 1, got shape {shape}")
        batch = shape[0].value
        with name_scope("flatten"):
            rest = shape[1:].num_elements() if shape.ndims > 1 else 1
            if rest is not None:
                outputs = array_ops.reshape(inputs, [-1 if batch is None else batch, rest])
            else:
                outputs = array_ops.reshape(inputs, join_ops.stack([array_ops.shape(inputs)[0], -1]))
                outputs.set_shape([batch, None])
        return _collect_outputs(outputs_collections, sc, outputs)
