"""`tf.layers`: conv2d, conv2d_transpose, max_pooling2d and average_pooling2d on NHWC images.

Each is the tf.nn op of the same name (conv_ops.py) with its variables made as in layers_core.py:
`conv2d/kernel` [kh, kw, in, filters] and `conv2d/bias` [filters]; a transposed convolution's
kernel is [kh, kw, filters, in] (the filter the forward convolution would use). Padding is "same"
or "valid" in any case; kernel_size, strides and pool_size are an int or a pair of ints.
"""

import numbers

from tfcore.ops import array_ops, conv_ops, join_ops, nn_ops
from tfcore.ops.layers_core import (
    ZEROS,
    check_channels_last,
    check_floating,
    finish,
    layer_scope,
    layer_variable,
    reject_constraints,
)
from tfcore.ops.layers_nn import avg_pool2d, max_pool2d

# Public names; tfcore/layers.py exports them as tf.layers.<name>.
__all__ = ["conv2d", "conv2d_transpose", "max_pooling2d", "average_pooling2d"]


# ================================================================================================
# The arguments every image layer shares
# ================================================================================================


def _pair(value, what):
    """An int or a pair of ints as a tuple of two positive ints (ValueError naming `what`)."""
    if isinstance(value, numbers.Integral):
        value = (int(value), int(value))
    try:
        pair = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 integers. Received: {value}") from None
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"The `{what}` argument must be a tuple of 2 positive integers. Received: {value}")
    return pair


def _padding(padding):
    """'same' or 'valid' in any case -> "SAME" or "VALID"."""
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in ("same", "valid"):
        raise ValueError(f'The `padding` argument must be one of "valid", "same". Received: {padding}')
    return value.upper()


def _image_input(inputs, layer, data_format):
    """The NHWC `inputs` of an image layer, with its channel count (ValueErrors name the layer)."""
    check_channels_last(data_format, layer)
    inputs = check_floating(inputs, layer)
    shape = inputs.get_shape()
    if shape.ndims is not None and shape.ndims != 4:
        raise ValueError(f"Input 0 of layer {layer} is incompatible with the layer: expected ndim=4, found "
                         f"ndim={shape.ndims}. Full shape received: {shape}")
    channels = None if shape.ndims is None else shape[3].value
    return inputs, channels


def _output_length(length, kernel, stride, padding):
    """A transposed convolution's output size along one axis: `length` * stride, plus for VALID
    what the last window reaches past it, max(kernel - stride, 0). `length` may be a tensor."""
    extra = 0 if padding == "SAME" else max(kernel - stride, 0)
    return length * stride + extra


# ================================================================================================
# conv2d and conv2d_transpose
# ================================================================================================


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None,
           activity_regularizer=None, kernel_constraint=None, bias_constraint=None, trainable=True,
           name=None, reuse=None):
    """activation(conv2d(inputs, kernel) + bias) with a [kh, kw, in, filters] kernel.

    NOTE: the layer's default padding is "valid" (tf.nn.conv2d has no default).
    """
    reject_constraints("conv2d", kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    inputs, channels = _image_input(inputs, "conv2d", data_format)
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    kh, kw = _pair(kernel_size, "kernel_size")
    strides = _pair(strides, "strides")
    dilations = _pair(dilation_rate, "dilation_rate")
    padding = _padding(padding)
    dtype = inputs.dtype.base_dtype
    with layer_scope(name, "conv2d", reuse):
        kernel = layer_variable("kernel", [kh, kw, channels, int(filters)], dtype, kernel_initializer,
                                kernel_regularizer, trainable)
        bias = layer_variable("bias", [int(filters)], dtype, bias_initializer, bias_regularizer,
                              trainable) if use_bias else None
        outputs = conv_ops.conv2d(inputs, kernel, strides=list(strides), padding=padding,
                                  dilations=list(dilations), name="Conv2D")
        if bias is not None:
            outputs = nn_ops.bias_add(outputs, bias)
        return finish(outputs, activation, activity_regularizer)


def conv2d_transpose(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
                     data_format="channels_last", activation=None, use_bias=True, kernel_initializer=None,
                     bias_initializer=ZEROS, kernel_regularizer=None, bias_regularizer=None,
                     activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                     trainable=True, name=None, reuse=None):
    """activation(conv2d_transpose(inputs, kernel) + bias): the adjoint of a strided convolution,
    growing [N, h, w, in] to [N, h * s, w * s, filters] (SAME) or a little more (VALID), with a
    [kh, kw, filters, in] kernel."""
    reject_constraints("conv2d_transpose", kernel_constraint=kernel_constraint,
                       bias_constraint=bias_constraint)
    inputs, channels = _image_input(inputs, "conv2d_transpose", data_format)
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(strides, "strides")
    padding = _padding(padding)
    dtype = inputs.dtype.base_dtype
    with layer_scope(name, "conv2d_transpose", reuse):
        kernel = layer_variable("kernel", [kh, kw, int(filters), channels], dtype, kernel_initializer,
                                kernel_regularizer, trainable)
        bias = layer_variable("bias", [int(filters)], dtype, bias_initializer, bias_regularizer,
                              trainable) if use_bias else None
        static = inputs.get_shape().as_list()
        dynamic = array_ops.shape(inputs)
        # Each size from the static shape where it is known, else from the input's shape at run time.
        height, width = (_output_length(dynamic[axis] if static[axis] is None else static[axis],
                                        k, s, padding) for axis, k, s in ((1, kh, sh), (2, kw, sw)))
        output_shape = join_ops.stack([dynamic[0], height, width, int(filters)])
        outputs = conv_ops.conv2d_transpose(inputs, kernel, output_shape, strides=[1, sh, sw, 1],
                                            padding=padding)
        outputs.set_shape([static[0]] + [v if isinstance(v, int) else None for v in (height, width)]
                          + [int(filters)])
        if bias is not None:
            outputs = nn_ops.bias_add(outputs, bias)
        return finish(outputs, activation, activity_regularizer)


# ================================================================================================
# Pooling
# ================================================================================================


def _pooling(pool, layer, inputs, pool_size, strides, padding, data_format, name):
    """The pooling layer `layer`: `pool` (max_pool2d or avg_pool2d) over pool_size windows."""
    inputs, _ = _image_input(inputs, layer, data_format)
    kh, kw = _pair(pool_size, "pool_size")
    sh, sw = _pair(strides if strides is not None else (kh, kw), "strides")
    padding = _padding(padding)
    with layer_scope(name, layer, None):
        kind = "MaxPool" if pool is max_pool2d else "AvgPool"
        return pool(inputs, [1, kh, kw, 1], [1, sh, sw, 1], padding, name=kind)


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """The maximum over each pool_size window, every `strides` pixels (padding never wins)."""
    return _pooling(max_pool2d, "max_pooling2d", inputs, pool_size, strides, padding, data_format, name)


def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """The mean over each pool_size window, every `strides` pixels (SAME: real pixels only)."""
    return _pooling(avg_pool2d, "average_pooling2d", inputs, pool_size, strides, padding, data_format,
                    name)

