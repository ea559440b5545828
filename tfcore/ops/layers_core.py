"""`tf.layers`: dense, dropout and flatten, and what every layer shares (its scope, its variables).

A tf.layers layer is not an op: it is variables made with `get_variable` and ordinary ops, built
inside a variable scope of the layer's own. Its name is `name`, or else the layer's kind made unique
in the enclosing variable scope ("dense", "dense_1", ...), so the variables are `dense/kernel` and
`dense/bias` (`outer/dense/kernel` inside `variable_scope("outer")`) and the ops `dense/MatMul`,
`dense/BiasAdd`, `dense/Relu`. `reuse=True` (or an enclosing scope that reuses) returns the
variables made before under the same name, `reuse=tf.AUTO_REUSE` makes them the first time.
"""

import contextlib
import numbers

import numpy as np

from tfcore.framework.constant_folding import constant_value
from tfcore.framework.graph import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from tfcore.ops import array_ops, control_flow_ops, dimension_ops, join_ops, math_ops, nn_ops
from tfcore.ops.init_ops import zeros_initializer
from tfcore.ops.scopes import get_variable, name_scope, variable_scope

# Public names; tfcore/layers.py exports them as tf.layers.<name>.
__all__ = ["dense", "dropout", "flatten"]

# TF's default bias initializer: one object, shared by every layer that does not pass its own.
ZEROS = zeros_initializer()


# ================================================================================================
# What every layer shares
# ================================================================================================


@contextlib.contextmanager
def layer_scope(name, kind, reuse):
    """The variable scope (and name scope) a layer builds in, as tf.layers chooses it.

    With a `name`, the scope is that name; without one, a reusing layer takes its kind ("dense")
    as is, so that it finds the variables of the first unnamed layer, and any other the kind made
    unique in the enclosing scope ("dense_1"). The op names follow the name scope, which is unique
    in the graph: a reused layer's ops are `dense_1/MatMul` while its variables stay `dense/...`.
    """
    if name is not None:
        scope = variable_scope(name, reuse=reuse)
    elif reuse is True or reuse == "AUTO_REUSE":
        scope = variable_scope(kind, reuse=reuse)
    else:
        scope = variable_scope(None, default_name=kind, reuse=reuse)
    with scope as entered:
        yield entered


def check_floating(inputs, layer):
    """`inputs` as a tensor; ValueError naming the layer unless its dtype is floating point."""
    inputs = convert_to_tensor(inputs, name="inputs")
    if not inputs.dtype.base_dtype.is_floating:
        raise ValueError(f"tf.layers.{layer}: inputs must be floating point (the layer's variables take "
                         f"their dtype), got {inputs.dtype.base_dtype.name}")
    return inputs


def layer_variable(name, shape, dtype, initializer, regularizer, trainable):
    """The variable `<layer scope>/<name>`, and its regularizer's loss in REGULARIZATION_LOSSES.

    As in TF, the penalty is built (under `<layer>/<name>/Regularizer/`) only when this call made
    the variable: a reused layer adds no second copy of it.
    """
    graph = get_default_graph()
    existing = set(graph.get_collection(GraphKeys.GLOBAL_VARIABLES))
    var = get_variable(name, shape=shape, dtype=dtype, initializer=initializer, trainable=trainable)
    if regularizer is not None and var not in existing:
        with name_scope(name + "/Regularizer"):
            loss = regularizer(var)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def finish(outputs, activation, activity_regularizer):
    """The layer's last steps: its activation, then the activity penalty (its sum over the batch
    size, in REGULARIZATION_LOSSES)."""
    if activation is not None:
        outputs = activation(outputs)
    if activity_regularizer is not None:
        with name_scope("ActivityRegularizer"):
            penalty = activity_regularizer(outputs)
            batch = math_ops.cast(array_ops.shape(outputs)[0], penalty.dtype.base_dtype)
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES,
                                                  math_ops.real_div(penalty, batch))
    return outputs


def reject_constraints(layer, **constraints):
    """NotImplementedError naming the layer for any constraint given (tfcore has none)."""
    given = [k for k, v in constraints.items() if v is not None]
    if given:
        raise NotImplementedError(f"tf.layers.{layer}: {', '.join(given)} are not supported by tfcore")


def check_channels_last(data_format, layer):
    """The data_format argument: 'channels_last' is what tfcore supports; anything else is an error."""
    value = data_format.lower() if isinstance(data_format, str) else data_format
    if value == "channels_first":
        raise ValueError(f"tf.layers.{layer}: data_format='channels_first' is not supported by tfcore; "
                         "keep images as [batch, height, width, channels] (data_format='channels_last')")
    if value not in (None, "channels_last"):
        raise ValueError(f'The `data_format` argument must be one of "channels_first", "channels_last". '
                         f"Received: {data_format}")


def static_bool(training):
    """`training` as a Python bool when it is known at build time (a bool, 0 or 1, a constant), else
    None (a tensor whose value comes at run time)."""
    if isinstance(training, Tensor):
        if training.dtype.base_dtype.name != "bool":
            raise ValueError(f"training must be a bool tensor, got {training.dtype.base_dtype.name}")
        value = constant_value(training)
        return None if value is None else bool(value)
    if isinstance(training, bool | np.bool_) or training in (0, 1):
        return bool(training)
    raise TypeError(f"training must be a Python bool or a bool tensor, got {type(training).__name__}")


def smart_cond(training, true_fn, false_fn):
    """true_fn() or false_fn() when `training` is known at build time, else a `cond` on it."""
    value = static_bool(training)
    if value is None:
        return control_flow_ops.cond(training, true_fn, false_fn)
    return true_fn() if value else false_fn()


# ================================================================================================
# dense
# ================================================================================================


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
          name=None, reuse=None):
    """activation(inputs @ kernel + bias), with `kernel` [in, units] and `bias` [units].

    The kernel's default initializer is the variable scope's, else glorot_uniform; inputs of rank
    above 2 are multiplied along their last axis.
    """
    reject_constraints("dense", kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    if not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"tf.layers.dense: units must be a positive integer, got {units!r}")
    inputs = check_floating(inputs, "dense")
    shape = inputs.get_shape()
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError(f"Input 0 of layer dense is incompatible with the layer: expected min_ndim=2, "
                         f"found ndim={shape.ndims}. Full shape received: {shape}")
    depth = None if shape.ndims is None else shape[-1].value
    if depth is None:
        raise ValueError(f"The last dimension of the inputs to a Dense layer should be defined. Found None. "
                         f"Full input shape received: {shape}")
    dtype = inputs.dtype.base_dtype
    with layer_scope(name, "dense", reuse):
        kernel = layer_variable("kernel", [depth, int(units)], dtype, kernel_initializer,
                                kernel_regularizer, trainable)
        bias = layer_variable("bias", [int(units)], dtype, bias_initializer, bias_regularizer,
                              trainable) if use_bias else None
        if shape.ndims == 2:
            outputs = math_ops.matmul(inputs, kernel)
        else:
            outputs = _matmul_last_axis(inputs, kernel, int(units))
        if bias is not None:
            outputs = nn_ops.bias_add(outputs, bias)
        return finish(outputs, activation, activity_regularizer)


def _matmul_last_axis(inputs, kernel, units):
    """inputs [..., in] @ kernel [in, units] -> [..., units]: flatten the leading axes, multiply,
    restore them (TF names this a Tensordot)."""
    shape = inputs.get_shape()
    with name_scope("Tensordot"):
        leading = array_ops.shape(inputs)[:-1]
        flat = array_ops.reshape(inputs, [-1, shape[-1].value])
        product = math_ops.matmul(flat, kernel)
        out_shape = join_ops.concat([leading, [units]], 0)
    outputs = array_ops.reshape(product, out_shape, name="Tensordot")
    outputs.set_shape(shape.as_list()[:-1] + [units])
    return outputs


# ================================================================================================
# dropout and flatten
# ================================================================================================


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """In training, zero each element with probability `rate` and scale the rest by 1 / (1 - rate);
    otherwise the identity.

    NOTE: `rate` is the fraction dropped (tf.nn.dropout's TF1 argument is the fraction kept), and
    the default `training=False` drops nothing: pass `training=True` or a bool tensor.
    """
    if isinstance(rate, numbers.Real) and not 0 <= rate < 1:
        raise ValueError(f"tf.layers.dropout: rate must be in [0, 1), got {rate}")
    inputs = check_floating(inputs, "dropout")
    with layer_scope(name, "dropout", None):
        def dropped():
            if isinstance(rate, numbers.Real) and rate == 0:
                return array_ops.identity(inputs)
            return nn_ops.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)

        return smart_cond(training, dropped, lambda: array_ops.identity(inputs))


def flatten(inputs, name=None, data_format="channels_last"):
    """[batch, d1, d2, ...] -> [batch, d1 * d2 * ...], keeping the batch dimension (even unknown)."""
    check_channels_last(data_format, "flatten")
    inputs = convert_to_tensor(inputs, name="inputs")
    shape = inputs.get_shape()
    if shape.ndims is not None and shape.ndims < 1:
        raise ValueError(f"Input 0 of layer flatten is incompatible with the layer: expected min_ndim=1, "
                         f"found ndim={shape.ndims}. Full shape received: {shape}")
    with layer_scope(name, "flatten", None):
        if shape.ndims == 1:
            return dimension_ops.expand_dims(inputs, 1)
        rest = shape[1:].num_elements() if shape.ndims is not None else None
        if rest is not None:
            return array_ops.reshape(inputs, [-1, int(rest)])
        if shape.ndims is not None and shape[0].value is not None:
            return array_ops.reshape(inputs, [shape[0].value, -1])
        return array_ops.reshape(inputs, join_ops.stack([array_ops.shape(inputs)[0], -1]))
