"""Convolution and pooling ops on NHWC images: conv2d, its two backprop ops, max_pool and avg_pool.

Each op is one block: public wrapper, shape function, reference kernel (against `ctx.xp`), gradient.

The reference kernels are the definitions written with two helpers of the window geometry
(conv_geometry.py, `g` below). `g.im2col` gathers each output pixel's window into one row:
patches[n, y, x, k, c] = padded[n, y*sh + i*dh, x*sw + j*dw, c] for the k-th kernel offset (i, j)
in row-major order. `g.col2im` is its adjoint: it adds every entry of such an array back onto the
pixel it was read from. Then

    conv2d:                 y  = im2col(x) @ W                  (W: the filter as [kh*kw*C, out])
    its input gradient:     dx = col2im(dy @ W^T)
    its filter gradient:    dW = im2col(x)^T @ dy
    max pooling:            the maximum over each window's k axis; its gradient goes to the argmax
    average pooling:        the sum over each window's k axis, over the number of real pixels

These kernels hold the whole patch array at once. The kernels a session runs by default are the
fast kernels of conv_fast.py, tested against these (tests/tfcore/test_fast_kernels.py); a session
with `tf.ConfigProto(reference_kernels=True)` runs these.
"""

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import check_same_dtype
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops
from tfcore.ops.conv_geometry import (
    Windows,
    conv_attrs,
    conv_attrs_of,
    conv_output_shape,
    lowest,
    merge,
    pool_attrs,
    pool_attrs_of,
    rank_dims,
    spatial_size,
    static_sizes,
)
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name>.
__all__ = ["conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
           "max_pool", "avg_pool"]


# ================================================================================================
# Conv2D
# ================================================================================================


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
           dilations=None, name=None, filters=None):
    """2-D convolution (cross-correlation, as in TF) of NHWC `input` with a [kh, kw, in, out] filter.

    strides/dilations: [1, s_h, s_w, 1] (or one int / two ints); padding: "SAME", "VALID" or explicit
    [[0, 0], [top, bottom], [left, right], [0, 0]].
    """
    filter = filters if filter is None else filter
    if filter is None or strides is None or padding is None:
        raise ValueError("conv2d needs input, filter, strides and padding")
    input = convert_to_tensor(input, name="input")
    filter = convert_to_tensor(filter, dtype=input.dtype.base_dtype, name="filter")
    return apply_op("Conv2D", [input, filter], conv_attrs(strides, padding, dilations, data_format),
                    name=name)


def _conv2d_shape(inputs, **attrs):
    dtype = check_same_dtype(inputs)
    if not dtype.is_floating:
        raise ValueError(f"Conv2D needs floating-point inputs, got {dtype.name}")
    shape = conv_output_shape(rank_dims(inputs[0].shape), rank_dims(inputs[1].shape), attrs)
    return [(TensorShape(shape), dtype)]


def _conv2d_kernel(ctx, x, filter, **attrs):
    """y[n, y, x, o] = sum over i, j, c of padded[n, y*sh + i*dh, x*sw + j*dw, c] * filter[i, j, c, o]:
    the [N*oh*ow, kh*kw*C] patch matrix times the filter as a [kh*kw*C, out] matrix."""
    xp = ctx.xp
    kh, kw, c, out = filter.shape
    g = Windows.for_conv(x.shape, (kh, kw), attrs)
    patches = g.im2col(xp, g.pad(xp, x)).reshape(-1, kh * kw * c)
    return xp.matmul(patches, filter.reshape(-1, out)).reshape(x.shape[0], g.oh, g.ow, out)


register_op("Conv2D", shape=_conv2d_shape, kernel=_conv2d_kernel)


@register_gradient("Conv2D")
def _Conv2DGrad(op, grad):
    """A convolution is linear in the input and in the filter; its adjoints are the backprop ops."""
    x, filter = op.inputs
    attrs = conv_attrs_of(op)
    return [apply_op("Conv2DBackpropInput", [array_ops.shape(x), filter, grad], attrs),
            apply_op("Conv2DBackpropFilter", [x, array_ops.shape(filter), grad], attrs)]


# ================================================================================================
# Conv2DBackpropInput and conv2d_transpose (its forward op)
# ================================================================================================


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None, padding=None,
                          use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None,
                          filters=None):
    """The gradient of conv2d with respect to its input, of shape `input_sizes` ([N, H, W, C])."""
    filter = filters if filter is None else filter
    if filter is None or out_backprop is None or strides is None or padding is None:
        raise ValueError("conv2d_backprop_input needs input_sizes, filter, out_backprop, strides, padding")
    input_sizes = convert_to_tensor(input_sizes, dtype=dtypes.int32, name="input_sizes")
    filter = convert_to_tensor(filter, name="filter")
    out_backprop = convert_to_tensor(out_backprop, dtype=filter.dtype.base_dtype, name="out_backprop")
    return apply_op("Conv2DBackpropInput", [input_sizes, filter, out_backprop],
                    conv_attrs(strides, padding, dilations, data_format), name=name)


def _conv2d_backprop_input_shape(inputs, **attrs):
    sizes, filter, out_backprop = inputs
    dtype = check_same_dtype(inputs[1:])
    n, h, w, c = static_sizes(sizes)
    kh, kw, fc, out = rank_dims(filter.shape)
    bn, bh, bw, bout = rank_dims(out_backprop.shape)
    c = merge(c, fc, "input depth must match the filter's input depth")
    merge(out, bout, "out_backprop depth must match the filter's output depth")
    n = merge(n, bn, "batch size of input_sizes and out_backprop")
    oh, ow = conv_output_shape([n, h, w, c], [kh, kw, c, out], attrs)[1:3]
    merge(oh, bh, "out_backprop height does not match the computed output height")
    merge(ow, bw, "out_backprop width does not match the computed output width")
    return [(TensorShape([n, h, w, c]), dtype)]


def _conv2d_backprop_input_kernel(ctx, input_sizes, filter, out_backprop, **attrs):
    """dx = col2im(dy @ W^T): each output pixel's gradient times the transposed [kh*kw*C, out] filter
    matrix is the gradient of its window's patch; col2im adds it back onto the pixels it was read from."""
    xp = ctx.xp
    n, h, w, c = (int(d) for d in input_sizes.tolist())
    kh, kw, _, out = filter.shape
    g = Windows.for_conv((n, h, w, c), (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropInput")
    cols = xp.matmul(out_backprop.reshape(-1, out), filter.reshape(-1, out).T)
    return g.col2im(xp, cols.reshape(n, g.oh, g.ow, kh * kw, c))


register_op("Conv2DBackpropInput", shape=_conv2d_backprop_input_shape,
            kernel=_conv2d_backprop_input_kernel, host_memory=(0,))


@register_gradient("Conv2DBackpropInput")
def _Conv2DBackpropInputGrad(op, grad):
    """dx = B(filter, dy) is linear in filter and dy: their adjoints are a backprop_filter and a conv2d."""
    _, filter, out_backprop = op.inputs
    attrs = conv_attrs_of(op)
    return [None,
            apply_op("Conv2DBackpropFilter", [grad, array_ops.shape(filter), out_backprop], attrs),
            apply_op("Conv2D", [grad, filter], attrs)]


def conv2d_transpose(value=None, filter=None, output_shape=None, strides=None, padding="SAME",
                     data_format="NHWC", name=None, input=None, filters=None, dilations=None):
    """The transpose ("deconvolution") of conv2d: maps [N, h, w, out] to `output_shape` [N, H, W, in].

    The filter is [kh, kw, output channels, input channels]: the same filter conv2d would use to go
    back from `output_shape` to `value`'s shape.
    """
    value = input if value is None else value
    filter = filters if filter is None else filter
    if value is None or filter is None or output_shape is None or strides is None:
        raise ValueError("conv2d_transpose needs value, filter, output_shape and strides")
    with name_scope(name, "conv2d_transpose") as scope:
        value = convert_to_tensor(value, name="value")
        filter = convert_to_tensor(filter, dtype=value.dtype.base_dtype, name="filter")
        output_shape = convert_to_tensor(output_shape, dtype=dtypes.int32, name="output_shape")
        value_channels = rank_dims(value.shape)[3]
        filter_dims = rank_dims(filter.shape)
        if None not in (value_channels, filter_dims[3]) and value_channels != filter_dims[3]:
            raise ValueError(f"input channels does not match filter's input channels, "
                             f"{value_channels} != {filter_dims[3]}")
        if output_shape.shape.ndims != 1 or output_shape.shape[0].value not in (None, 4):
            raise ValueError(f"output_shape must have shape (4,), got {output_shape.shape}")
        wanted = static_sizes(output_shape)[3]
        if None not in (wanted, filter_dims[2]) and wanted != filter_dims[2]:
            raise ValueError(f"output_shape does not match filter's output channels, "
                             f"{wanted} != {filter_dims[2]}")
        return apply_op("Conv2DBackpropInput", [output_shape, filter, value],
                        conv_attrs(strides, padding, dilations, data_format), name=scope)


# ================================================================================================
# Conv2DBackpropFilter
# ================================================================================================


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, use_cudnn_on_gpu=True,
                           data_format="NHWC", dilations=None, name=None):
    """The gradient of conv2d with respect to its filter, of shape `filter_sizes` ([kh, kw, in, out])."""
    input = convert_to_tensor(input, name="input")
    filter_sizes = convert_to_tensor(filter_sizes, dtype=dtypes.int32, name="filter_sizes")
    out_backprop = convert_to_tensor(out_backprop, dtype=input.dtype.base_dtype, name="out_backprop")
    return apply_op("Conv2DBackpropFilter", [input, filter_sizes, out_backprop],
                    conv_attrs(strides, padding, dilations, data_format), name=name)


def _conv2d_backprop_filter_shape(inputs, **attrs):
    x, sizes, out_backprop = inputs
    dtype = check_same_dtype([x, out_backprop])
    kh, kw, c, out = static_sizes(sizes)
    n, h, w, xc = rank_dims(x.shape)
    bn, bh, bw, bout = rank_dims(out_backprop.shape)
    c = merge(c, xc, "input depth must match the filter's input depth")
    out = merge(out, bout, "out_backprop depth must match the filter's output depth")
    merge(n, bn, "batch size of input and out_backprop")
    oh, ow = conv_output_shape([n, h, w, c], [kh, kw, c, out], attrs)[1:3]
    merge(oh, bh, "out_backprop height does not match the computed output height")
    merge(ow, bw, "out_backprop width does not match the computed output width")
    return [(TensorShape([kh, kw, c, out]), dtype)]


def _conv2d_backprop_filter_kernel(ctx, x, filter_sizes, out_backprop, **attrs):
    """dW = im2col(x)^T @ dy: filter entry (i, j, c, o) gathers, over every output pixel, the input
    pixel under offset (i, j) times that pixel's gradient for output channel o."""
    xp = ctx.xp
    kh, kw, c, out = (int(d) for d in filter_sizes.tolist())
    g = Windows.for_conv(x.shape, (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropFilter")
    patches = g.im2col(xp, g.pad(xp, x)).reshape(-1, kh * kw * c)
    return xp.matmul(patches.T, out_backprop.reshape(-1, out)).reshape(kh, kw, c, out)


register_op("Conv2DBackpropFilter", shape=_conv2d_backprop_filter_shape,
            kernel=_conv2d_backprop_filter_kernel, host_memory=(1,))


@register_gradient("Conv2DBackpropFilter")
def _Conv2DBackpropFilterGrad(op, grad):
    """dW = F(x, dy) is linear in x and dy: their adjoints are a backprop_input and a conv2d."""
    x, _, out_backprop = op.inputs
    attrs = conv_attrs_of(op)
    return [apply_op("Conv2DBackpropInput", [array_ops.shape(x), grad, out_backprop], attrs),
            None,
            apply_op("Conv2D", [x, grad], attrs)]


# ================================================================================================
# MaxPool, MaxPoolGrad, MaxPoolGradGrad
# ================================================================================================


def _pool_shape(inputs, ksize, strides, padding, data_format):
    x = inputs[0]
    n, h, w, c = rank_dims(x.shape)
    oh = spatial_size(h, ksize[1], strides[1], 1, padding)[0]
    ow = spatial_size(w, ksize[2], strides[2], 1, padding)[0]
    return [(TensorShape([n, oh, ow, c]), x.dtype.base_dtype)]


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The maximum over each ksize window of an NHWC image (padding never wins a SAME window)."""
    value = input if value is None else value
    value = convert_to_tensor(value, name="input")
    return apply_op("MaxPool", [value], pool_attrs(ksize, strides, padding, data_format), name=name)


def _max_pool_kernel(ctx, x, **attrs):
    """pooled[n, y, x, c] = the maximum over the window's k axis of im2col(x), padded with the lowest
    value of the dtype (so that padding never wins)."""
    xp = ctx.xp
    g = Windows.for_pool(x.shape, **attrs)
    return xp.max(g.im2col(xp, g.pad(xp, x, lowest(xp, x.dtype))), axis=3)


register_op("MaxPool", shape=_pool_shape, kernel=_max_pool_kernel)


@register_gradient("MaxPool")
def _MaxPoolGrad(op, grad):
    """Each window's gradient goes to the input element that was its maximum."""
    return [apply_op("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], pool_attrs_of(op))]


def _first_maximum(xp, g, x):
    """[N, oh, ow, kh*kw, C] booleans, True at the argmax of each window of `x` (padding never wins).

    NOTE: on ties TF gives the window to its first maximum in row-major order; argmax returns the
    first of equal maxima, and im2col's k axis is in row-major offset order.
    """
    first = xp.argmax(g.im2col(xp, g.pad(xp, x, lowest(xp, x.dtype))), axis=3)
    return first[:, :, :, None, :] == xp.arange(g.kh * g.kw).reshape(1, 1, 1, -1, 1)


def _max_pool_grad_shape(inputs, **attrs):
    return [(inputs[0].shape, check_same_dtype(inputs))]


def _max_pool_grad_kernel(ctx, x, pooled, grad, **attrs):
    """dx = col2im(one_hot(argmax) * dy): each window's gradient goes, whole, to the pixel that is
    its first maximum (row-major order, TF's rule on ties). The maxima come from `x` itself."""
    xp = ctx.xp
    g = Windows.for_pool(x.shape, **attrs)
    return g.col2im(xp, _first_maximum(xp, g, x) * grad[:, :, :, None, :])


register_op("MaxPoolGrad", shape=_max_pool_grad_shape, kernel=_max_pool_grad_kernel)


@register_gradient("MaxPoolGrad")
def _MaxPoolGradGrad(op, grad):
    """MaxPoolGrad routes each window's gradient to one fixed element: linear in the routed
    gradient; the routing itself is piecewise constant in the image (a zero gradient there)."""
    x, pooled, _ = op.inputs
    return [array_ops.zeros_like(x), array_ops.zeros_like(pooled),
            apply_op("MaxPoolGradGrad", [x, pooled, grad], pool_attrs_of(op))]


def _max_pool_grad_grad_shape(inputs, **attrs):
    return [(inputs[1].shape, check_same_dtype(inputs))]


def _max_pool_grad_grad_kernel(ctx, x, pooled, grad, **attrs):
    """For each window: the value of `grad` (image-shaped) at the window's first maximum, i.e. the
    sum over the k axis of im2col(grad) * one_hot(argmax)."""
    xp = ctx.xp
    g = Windows.for_pool(x.shape, **attrs)
    return xp.sum(g.im2col(xp, g.pad(xp, grad)) * _first_maximum(xp, g, x), axis=3)


register_op("MaxPoolGradGrad", shape=_max_pool_grad_grad_shape, kernel=_max_pool_grad_grad_kernel)


@register_gradient("MaxPoolGradGrad")
def _MaxPoolGradGradGrad(op, grad):
    """Picking values at the maxima is the adjoint of routing to them: MaxPoolGrad."""
    x, pooled, _ = op.inputs
    return [array_ops.zeros_like(x), array_ops.zeros_like(pooled),
            apply_op("MaxPoolGrad", [x, pooled, grad], pool_attrs_of(op))]


# ================================================================================================
# AvgPool, AvgPoolGrad
# ================================================================================================


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The mean over each ksize window of an NHWC image.

    NOTE: with SAME padding a window at the border averages only its real pixels (the padding is
    not counted), as in TF.
    """
    value = input if value is None else value
    value = convert_to_tensor(value, name="value")
    if not value.dtype.base_dtype.is_floating:
        raise ValueError(f"AvgPool needs a floating-point input, got {value.dtype.base_dtype.name}")
    return apply_op("AvgPool", [value], pool_attrs(ksize, strides, padding, data_format), name=name)


def _avg_pool_kernel(ctx, x, **attrs):
    """pooled = the sum over the window's k axis of im2col(x) (zero padding), over the number of real
    pixels in the window."""
    xp = ctx.xp
    g = Windows.for_pool(x.shape, **attrs)
    return xp.sum(g.im2col(xp, g.pad(xp, x)), axis=3) / g.counts(xp, x.dtype)


register_op("AvgPool", shape=_pool_shape, kernel=_avg_pool_kernel)


@register_gradient("AvgPool")
def _AvgPoolGrad(op, grad):
    """Each window's gradient is shared equally among the pixels it averaged."""
    return [apply_op("AvgPoolGrad", [array_ops.shape(op.inputs[0]), grad], pool_attrs_of(op))]


def _avg_pool_grad_shape(inputs, **attrs):
    sizes, grad = inputs
    n, h, w, c = static_sizes(sizes)
    gn, _, _, gc = rank_dims(grad.shape)
    return [(TensorShape([merge(n, gn, "batch size"), h, w, merge(c, gc, "depth")]), grad.dtype.base_dtype)]


def _avg_pool_grad_kernel(ctx, input_sizes, grad, **attrs):
    """dx = col2im(dy / count, the same for every offset of the window): each window's gradient
    shared equally among its real pixels."""
    xp = ctx.xp
    shape = tuple(int(d) for d in input_sizes.tolist())
    g = Windows.for_pool(shape, **attrs)
    share = grad / g.counts(xp, grad.dtype)
    n, oh, ow, c = share.shape
    return g.col2im(xp, xp.broadcast_to(share[:, :, :, None, :], (n, oh, ow, g.kh * g.kw, c)))


register_op("AvgPoolGrad", shape=_avg_pool_grad_shape, kernel=_avg_pool_grad_kernel, host_memory=(0,))


@register_gradient("AvgPoolGrad")
def _AvgPoolGradGrad(op, grad):
    """AvgPoolGrad is linear in its gradient input, and its adjoint is average pooling again."""
    return [None, apply_op("AvgPool", [grad], pool_attrs_of(op))]
