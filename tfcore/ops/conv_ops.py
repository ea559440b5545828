"""Convolution and pooling ops on NHWC images: conv2d, its two backprop ops, max_pool and avg_pool.

Each op is one block: public wrapper, shape function, kernel (against `xp`), gradient.

The kernels share one idea. Pad the image, then look at it through a strided *window view*
([N, oh, ow, kh, kw, C], no copy): element [n, y, x, i, j, c] is the padded pixel that kernel offset
(i, j) touches for output pixel (y, x), i.e. padded[n, y*sh + i*dh, x*sw + j*dw, c].

A convolution copies the view once into a patch matrix [N*oh*ow, kh*kw*C] ("im2col") and does one
BLAS matrix product with the [kh*kw*C, out] filter, piece by piece (a few images, or a few output
rows of one image, at a time) so that each piece stays in the cache and memory stays flat.
Its input gradient, for stride 1, is itself a convolution (of the gradient, with the filter flipped
and its channel axes swapped: a "transposed convolution") and takes the same path; for larger
strides it adds each offset's share back through the same view of a zeros image ("col2im", one
strided add per offset: a fixed offset never hits a pixel twice). Pooling takes the max or the sum
over the offsets' strided slices; when the windows tile the image (ksize == strides, as in 2x2 max
pooling) the max-pool gradient writes each pixel once instead of adding. No Python loop ever runs
over pixels.

NOTE (CuPy): the window view uses `xp.lib.stride_tricks.as_strided`, which NumPy and CuPy both have.
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.common_shapes import check_same_dtype
from tfcore.framework.constant_folding import partial_shape_value
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name>.
__all__ = [
    "conv2d",
    "conv2d_backprop_input",
    "conv2d_backprop_filter",
    "conv2d_transpose",
    "max_pool",
    "avg_pool",
]


# ================================================================================================
# Window geometry shared by every op here
# ================================================================================================


def _spatial_size(in_size, k, stride, dilation, padding, explicit=(0, 0)):
    """(output size, pad before, pad after) of one spatial dimension; sizes None when unknown.

    NOTE: TF's SAME padding: the output has ceil(in / stride) positions, the total padding is
    max((out - 1) * stride + k_eff - in, 0), and the odd extra row/column goes at the bottom/right.
    """
    k_eff = (k - 1) * dilation + 1  # a dilated kernel spans this many input pixels
    if in_size is None:
        return None, None, None
    if padding == "SAME":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + k_eff - in_size, 0)
        return out, total // 2, total - total // 2
    before, after = explicit if padding == "EXPLICIT" else (0, 0)
    out = (in_size + before + after - k_eff) // stride + 1
    if out < 0 or in_size + before + after < k_eff:
        raise ValueError(f"Computed output size would be negative: {out} [input_size: {in_size}, "
                         f"effective_filter_size: {k_eff}, stride: {stride}]")
    return out, before, after


# im2col builds its patch matrix in pieces of at most this many bytes: small enough to stay in the
# CPU's cache between the copy and the matrix product, and to keep memory flat (one VGG19 layer at
# 512x512 would need gigabytes at once). How the size was chosen: benchmarks/README.md, "Kernel
# choices in conv_ops".
IM2COL_PIECE_BYTES = 2 * 2**20


class _Windows:
    """The geometry of one windowed op on an NHWC image of height h and width w."""

    def __init__(self, h, w, kh, kw, strides, dilations, padding, explicit_paddings=()):
        explicit = list(explicit_paddings) or [0] * 8
        self.kh, self.kw = kh, kw
        self.sh, self.sw = strides[1], strides[2]
        self.dh, self.dw = dilations[1], dilations[2]
        self.oh, self.top, bottom = _spatial_size(h, kh, self.sh, self.dh, padding, explicit[2:4])
        self.ow, self.left, right = _spatial_size(w, kw, self.sw, self.dw, padding, explicit[4:6])
        self.h, self.w = h, w
        self.padded_h, self.padded_w = h + self.top + bottom, w + self.left + right

    def pad(self, xp, x, value=0):
        """`x` padded on its spatial axes with `value` (a new array; `x` itself is never modified)."""
        if (self.padded_h, self.padded_w) == (self.h, self.w):
            return x
        padded = xp.full((x.shape[0], self.padded_h, self.padded_w, x.shape[3]), value, dtype=x.dtype)
        padded[:, self.top:self.top + self.h, self.left:self.left + self.w, :] = x
        return padded

    def window_view(self, xp, padded):
        """[N, oh, ow, kh, kw, C]: `padded` seen through every output pixel's window (no copy).

        Writing through the view writes `padded`; for one fixed offset (i, j) the view never
        reaches a pixel twice, so `view[:, :, :, i, j] += ...` is a plain strided add.
        """
        n, _, _, c = padded.shape
        stride_n, stride_h, stride_w, stride_c = padded.strides
        return xp.lib.stride_tricks.as_strided(
            padded, shape=(n, self.oh, self.ow, self.kh, self.kw, c),
            strides=(stride_n, stride_h * self.sh, stride_w * self.sw, stride_h * self.dh,
                     stride_w * self.dw, stride_c))

    def pieces(self, n, depth, itemsize):
        """(batch slice, output-row slice) pairs covering the output, each piece's patch matrix
        [pixels, kh*kw*depth] within IM2COL_PIECE_BYTES: whole images where they fit, else rows."""
        row_bytes = max(self.ow * self.kh * self.kw * depth * itemsize, 1)
        rows = max(IM2COL_PIECE_BYTES // row_bytes, 1)
        if rows >= self.oh:
            images = rows // max(self.oh, 1)
            return [(slice(b, b + images), slice(None)) for b in range(0, n, images)]
        return [(slice(b, b + 1), slice(r, r + rows)) for b in range(n) for r in range(0, self.oh, rows)]

    def transposed(self):
        """The geometry of this op's input gradient as a stride-1 convolution of the output gradient
        (flipped filter), or None where that does not apply (strides > 1, or more padding than the
        kernel spans).

        With stride 1, input pixel y receives from output pixels y + top - i*dh: padding the output
        gradient by k_eff - 1 - top above lines that up as a plain convolution with offsets reversed.
        """
        if (self.sh, self.sw) != (1, 1):
            return None
        k_eff_h, k_eff_w = (self.kh - 1) * self.dh + 1, (self.kw - 1) * self.dw + 1
        top, left = k_eff_h - 1 - self.top, k_eff_w - 1 - self.left
        bottom, right = self.h + k_eff_h - 1 - self.oh - top, self.w + k_eff_w - 1 - self.ow - left
        if min(top, bottom, left, right) < 0:
            return None
        return _Windows(self.oh, self.ow, self.kh, self.kw, [1, 1, 1, 1], [1, self.dh, self.dw, 1],
                        "EXPLICIT", [0, 0, top, bottom, left, right, 0, 0])

    def tile(self):
        """Whether the windows tile the image: no overlaps, no gaps (ksize == strides, no dilation).
        Then every pixel lies under exactly one window and one offset (pixels of a VALID remainder
        under none)."""
        return (self.kh, self.kw) == (self.sh, self.sw) and (self.dh, self.dw) == (1, 1)

    def offsets(self):
        """For each kernel offset (in row-major order): the slice of the padded image it reads."""
        for i in range(self.kh):
            for j in range(self.kw):
                rows = slice(i * self.dh, i * self.dh + (self.oh - 1) * self.sh + 1, self.sh)
                cols = slice(j * self.dw, j * self.dw + (self.ow - 1) * self.sw + 1, self.sw)
                yield (slice(None), rows, cols, slice(None))

    def crop(self, padded):
        """The part of a padded-size array that lies over the original image."""
        return padded[:, self.top:self.top + self.h, self.left:self.left + self.w, :]

    def check_output(self, out_shape, what):
        if tuple(out_shape[1:3]) != (self.oh, self.ow):
            raise ValueError(f"{what}: size of out_backprop doesn't match computed: actual = "
                             f"{tuple(out_shape[1:3])}, computed = {(self.oh, self.ow)}")


def _sequence(value, name, allow_2=True):
    """TF's strides/ksize/dilations argument as four ints [1, h, w, 1] (from an int, 1, 2 or 4 ints)."""
    if isinstance(value, int | np.integer):
        value = [int(value)]
    value = [int(v) for v in value]
    if len(value) == 1:
        value = [1, value[0], value[0], 1]
    elif len(value) == 2 and allow_2:
        value = [1, value[0], value[1], 1]
    if len(value) != 4:
        raise ValueError(f"{name} should be of length 1, 2 or 4, got {len(value)}")
    if value[0] != 1 or value[3] != 1:
        raise ValueError(f"{name} over the batch or channel dimension is not supported: {value} "
                         f"(use [1, h, w, 1])")
    if min(value) < 1:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _nhwc(data_format):
    if data_format not in (None, "NHWC"):
        raise ValueError(f"tfcore supports data_format='NHWC' only (got {data_format!r}): keep images as "
                         "[batch, height, width, channels]")
    return "NHWC"


def _padding(padding, allow_explicit):
    """("SAME" | "VALID" | "EXPLICIT", explicit_paddings as 8 ints)."""
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME' or 'VALID' (upper case, as in TF), got {padding!r}")
        return padding, []
    if not allow_explicit:
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    pairs = [[int(a), int(b)] for a, b in padding]
    if len(pairs) != 4 or pairs[0] != [0, 0] or pairs[3] != [0, 0] or min(min(p) for p in pairs) < 0:
        raise ValueError(f"explicit padding must be [[0, 0], [top, bottom], [left, right], [0, 0]] with "
                         f"non-negative amounts, got {padding!r}")
    return "EXPLICIT", [v for p in pairs for v in p]


def _conv_attrs(strides, padding, dilations, data_format):
    padding, explicit = _padding(padding, allow_explicit=True)
    return {"strides": _sequence(strides, "strides"), "padding": padding, "explicit_paddings": explicit,
            "dilations": _sequence(dilations if dilations is not None else 1, "dilations"),
            "data_format": _nhwc(data_format)}


def _rank_dims(shape, rank=4):
    """A static shape as a list of `rank` ints/None (all None when the rank is unknown)."""
    if shape.ndims is None:
        return [None] * rank
    if shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape.as_list()


def _merge(a, b, what):
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: {a} vs {b}")
    return a if a is not None else b


def _conv_output_shape(input_dims, filter_dims, attrs):
    """The static [N, oh, ow, out_channels] of a convolution."""
    n, h, w, c = input_dims
    kh, kw, c2, out = filter_dims
    _merge(c, c2, "input depth must match the filter's input depth")
    s, d = attrs["strides"], attrs["dilations"]
    explicit = attrs["explicit_paddings"] or [0] * 8
    oh = _spatial_size(h, kh, s[1], d[1], attrs["padding"], explicit[2:4])[0] if kh is not None else None
    ow = _spatial_size(w, kw, s[2], d[2], attrs["padding"], explicit[4:6])[0] if kw is not None else None
    return [n, oh, ow, out]


def _windows_for(input_shape, filter_hw, attrs):
    return _Windows(int(input_shape[1]), int(input_shape[2]), int(filter_hw[0]), int(filter_hw[1]),
                    attrs["strides"], attrs["dilations"], attrs["padding"], attrs["explicit_paddings"])


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
    return apply_op("Conv2D", [input, filter], _conv_attrs(strides, padding, dilations, data_format),
                    name=name)


def _conv2d_shape(inputs, **attrs):
    dtype = check_same_dtype(inputs)
    if not dtype.is_floating:
        raise ValueError(f"Conv2D needs floating-point inputs, got {dtype.name}")
    shape = _conv_output_shape(_rank_dims(inputs[0].shape), _rank_dims(inputs[1].shape), attrs)
    return [(TensorShape(shape), dtype)]


def _im2col_matmul(xp, g, padded, weights, result):
    """Fill `result` [N, oh, ow, out] with every window of `padded` (flattened in (i, j, c) order)
    times `weights` [kh*kw*C, out]: one im2col copy and one BLAS product per piece."""
    n, _, _, c = padded.shape
    windows = g.window_view(xp, padded)
    for piece in g.pieces(n, c, padded.dtype.itemsize):
        patches = windows[piece].reshape(-1, g.kh * g.kw * c)  # im2col: the one copy of the input
        # A piece is whole images or whole rows of one image: a contiguous block of `result`, so the
        # reshape is a view and the product lands in place.
        xp.matmul(patches, weights, out=result[piece].reshape(-1, weights.shape[1]))
    return result


def _conv2d_kernel(xp, x, filter, **attrs):
    kh, kw, c, out = filter.shape
    g = _windows_for(x.shape, (kh, kw), attrs)
    result = xp.empty((x.shape[0], g.oh, g.ow, out), dtype=x.dtype)
    # the filter's rows are already in the (i, j, c) order of a flattened window
    return _im2col_matmul(xp, g, g.pad(xp, x), filter.reshape(-1, out), result)


register_op("Conv2D", shape=_conv2d_shape, kernel=_conv2d_kernel)


def _same_attrs(op):
    """The attributes of a convolution op, for the ops of its gradient."""
    names = ("strides", "padding", "explicit_paddings", "dilations", "data_format")
    return {k: op.get_attr(k) for k in names}


@register_gradient("Conv2D")
def _Conv2DGrad(op, grad):
    """A convolution is linear in the input and in the filter; its adjoints are the backprop ops."""
    x, filter = op.inputs
    attrs = _same_attrs(op)
    return [apply_op("Conv2DBackpropInput", [array_ops.shape(x), filter, grad], attrs),
            apply_op("Conv2DBackpropFilter", [x, array_ops.shape(filter), grad], attrs)]


# ================================================================================================
# Conv2DBackpropInput (also the forward op of conv2d_transpose)
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
                    _conv_attrs(strides, padding, dilations, data_format), name=name)


def _static_sizes(t):
    """The values of a 4-element sizes tensor, as far as they are known at build time."""
    if t.shape.ndims not in (None, 1) or t.shape[0].value not in (None, 4):
        raise ValueError(f"sizes must be a 1-D tensor of 4 elements, got shape {t.shape}")
    known = partial_shape_value(t)
    return known if known is not None and len(known) == 4 else [None] * 4


def _conv2d_backprop_input_shape(inputs, **attrs):
    sizes, filter, out_backprop = inputs
    dtype = check_same_dtype(inputs[1:])
    n, h, w, c = _static_sizes(sizes)
    kh, kw, fc, out = _rank_dims(filter.shape)
    bn, bh, bw, bout = _rank_dims(out_backprop.shape)
    c = _merge(c, fc, "input depth must match the filter's input depth")
    _merge(out, bout, "out_backprop depth must match the filter's output depth")
    n = _merge(n, bn, "batch size of input_sizes and out_backprop")
    oh, ow = _conv_output_shape([n, h, w, c], [kh, kw, c, out], attrs)[1:3]
    _merge(oh, bh, "out_backprop height does not match the computed output height")
    _merge(ow, bw, "out_backprop width does not match the computed output width")
    return [(TensorShape([n, h, w, c]), dtype)]


def _conv2d_backprop_input_kernel(xp, input_sizes, filter, out_backprop, **attrs):
    n, h, w, c = (int(d) for d in input_sizes.tolist())
    kh, kw, _, out = filter.shape
    g = _windows_for((n, h, w, c), (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropInput")
    t = g.transposed()
    if t is not None and out <= 2 * c:
        # Stride 1: a convolution of out_backprop with the filter flipped in space, in/out swapped.
        # Its im2col copies kh*kw*out values per pixel, the strided adds below move about 3*kh*kw*c,
        # so it is chosen for out <= 2c (benchmarks/README.md, "Kernel choices in conv_ops").
        flipped = filter[::-1, ::-1].transpose(0, 1, 3, 2).reshape(-1, c)  # (a small copy)
        result = xp.empty((n, h, w, c), dtype=out_backprop.dtype)
        return _im2col_matmul(xp, t, t.pad(xp, out_backprop), flipped, result)
    grad = xp.zeros((n, g.padded_h, g.padded_w, c), dtype=out_backprop.dtype)
    windows = g.window_view(xp, grad)
    weights_t = filter.reshape(-1, out).T
    for piece in g.pieces(n, c, grad.dtype.itemsize):
        # Each output pixel sends grad @ filter[i, j]^T back to the input pixel under offset (i, j).
        cols = xp.matmul(out_backprop[piece].reshape(-1, out), weights_t)
        window = windows[piece]
        cols = cols.reshape(window.shape)
        for i in range(kh):
            for j in range(kw):
                window[:, :, :, i, j] += cols[:, :, :, i, j]
    return g.crop(grad)


register_op("Conv2DBackpropInput", shape=_conv2d_backprop_input_shape, kernel=_conv2d_backprop_input_kernel)


@register_gradient("Conv2DBackpropInput")
def _Conv2DBackpropInputGrad(op, grad):
    """dx = B(filter, dy) is linear in filter and dy: their adjoints are a backprop_filter and a conv2d."""
    _, filter, out_backprop = op.inputs
    attrs = _same_attrs(op)
    return [None,
            apply_op("Conv2DBackpropFilter", [grad, array_ops.shape(filter), out_backprop], attrs),
            apply_op("Conv2D", [grad, filter], attrs)]


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
                    _conv_attrs(strides, padding, dilations, data_format), name=name)


def _conv2d_backprop_filter_shape(inputs, **attrs):
    x, sizes, out_backprop = inputs
    dtype = check_same_dtype([x, out_backprop])
    kh, kw, c, out = _static_sizes(sizes)
    n, h, w, xc = _rank_dims(x.shape)
    bn, bh, bw, bout = _rank_dims(out_backprop.shape)
    c = _merge(c, xc, "input depth must match the filter's input depth")
    out = _merge(out, bout, "out_backprop depth must match the filter's output depth")
    _merge(n, bn, "batch size of input and out_backprop")
    oh, ow = _conv_output_shape([n, h, w, c], [kh, kw, c, out], attrs)[1:3]
    _merge(oh, bh, "out_backprop height does not match the computed output height")
    _merge(ow, bw, "out_backprop width does not match the computed output width")
    return [(TensorShape([kh, kw, c, out]), dtype)]


def _conv2d_backprop_filter_kernel(xp, x, filter_sizes, out_backprop, **attrs):
    kh, kw, c, out = (int(d) for d in filter_sizes.tolist())
    g = _windows_for(x.shape, (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropFilter")
    windows = g.window_view(xp, g.pad(xp, x))
    grad = xp.zeros((kh * kw * c, out), dtype=x.dtype)
    for piece in g.pieces(x.shape[0], c, x.dtype.itemsize):
        patches = windows[piece].reshape(-1, kh * kw * c)
        grad += xp.matmul(patches.T, out_backprop[piece].reshape(-1, out))
    return grad.reshape(kh, kw, c, out)


register_op("Conv2DBackpropFilter", shape=_conv2d_backprop_filter_shape,
            kernel=_conv2d_backprop_filter_kernel)


@register_gradient("Conv2DBackpropFilter")
def _Conv2DBackpropFilterGrad(op, grad):
    """dW = F(x, dy) is linear in x and dy: their adjoints are a backprop_input and a conv2d."""
    x, _, out_backprop = op.inputs
    attrs = _same_attrs(op)
    return [apply_op("Conv2DBackpropInput", [array_ops.shape(x), grad, out_backprop], attrs),
            None,
            apply_op("Conv2D", [x, grad], attrs)]


# ================================================================================================
# conv2d_transpose (built on Conv2DBackpropInput)
# ================================================================================================


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
        value_channels = _rank_dims(value.shape)[3]
        filter_dims = _rank_dims(filter.shape)
        if None not in (value_channels, filter_dims[3]) and value_channels != filter_dims[3]:
            raise ValueError(f"input channels does not match filter's input channels, "
                             f"{value_channels} != {filter_dims[3]}")
        if output_shape.shape.ndims != 1 or output_shape.shape[0].value not in (None, 4):
            raise ValueError(f"output_shape must have shape (4,), got {output_shape.shape}")
        wanted = _static_sizes(output_shape)[3]
        if None not in (wanted, filter_dims[2]) and wanted != filter_dims[2]:
            raise ValueError(f"output_shape does not match filter's output channels, "
                             f"{wanted} != {filter_dims[2]}")
        return apply_op("Conv2DBackpropInput", [output_shape, filter, value],
                        _conv_attrs(strides, padding, dilations, data_format), name=scope)


# ================================================================================================
# MaxPool, MaxPoolGrad, MaxPoolGradGrad
# ================================================================================================


def _pool_attrs(ksize, strides, padding, data_format):
    return {"ksize": _sequence(ksize, "ksize"), "strides": _sequence(strides, "strides"),
            "padding": _padding(padding, allow_explicit=False)[0], "data_format": _nhwc(data_format)}


def _pool_attrs_of(op):
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


def _pool_windows(shape, ksize, strides, padding, data_format):
    return _Windows(int(shape[1]), int(shape[2]), ksize[1], ksize[2], strides, [1, 1, 1, 1], padding)


def _pool_shape(inputs, ksize, strides, padding, data_format):
    x = inputs[0]
    n, h, w, c = _rank_dims(x.shape)
    oh = _spatial_size(h, ksize[1], strides[1], 1, padding)[0]
    ow = _spatial_size(w, ksize[2], strides[2], 1, padding)[0]
    return [(TensorShape([n, oh, ow, c]), x.dtype.base_dtype)]


def _lowest(xp, dtype):
    return -xp.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The maximum over each ksize window of an NHWC image (padding never wins a SAME window)."""
    value = input if value is None else value
    value = convert_to_tensor(value, name="input")
    return apply_op("MaxPool", [value], _pool_attrs(ksize, strides, padding, data_format), name=name)


def _max_pool_kernel(xp, x, **attrs):
    g = _pool_windows(x.shape, **attrs)
    padded = g.pad(xp, x, _lowest(xp, x.dtype))
    windows = g.offsets()
    out = xp.array(padded[next(windows)])  # a copy: the running maximum is updated in place
    for window in windows:
        xp.maximum(out, padded[window], out=out)
    return out


register_op("MaxPool", shape=_pool_shape, kernel=_max_pool_kernel)


@register_gradient("MaxPool")
def _MaxPoolGrad(op, grad):
    """Each window's gradient goes to the input element that was its maximum."""
    return [apply_op("MaxPoolGrad", [op.inputs[0], op.outputs[0], grad], _pool_attrs_of(op))]


def _max_positions(xp, g, padded, pooled):
    """For each offset: where that offset holds its window's maximum, first match only.

    NOTE: on ties TF's MaxPoolGrad gives the whole gradient to the first maximum of the window
    in row-major order; `taken` makes later equal elements lose.
    """
    taken = xp.zeros(pooled.shape, dtype=bool)
    for window in g.offsets():
        hit = (padded[window] == pooled) & ~taken
        taken |= hit
        yield window, hit


def _max_pool_grad_shape(inputs, **attrs):
    return [(inputs[0].shape, check_same_dtype(inputs))]


def _max_pool_grad_kernel(xp, x, pooled, grad, **attrs):
    """Each window's gradient goes to its first maximum (row-major order, TF's rule on ties).

    Offset by offset: the elements under that offset that equal their window's maximum take what is
    left of the window's gradient (`remaining`), and those windows have nothing left for later offsets.
    Products with the 0/1 mask, not `where` or masked assignment (branchy: several times slower).
    """
    g = _pool_windows(x.shape, **attrs)
    padded = g.pad(xp, x, _lowest(xp, x.dtype))
    remaining = xp.array(grad)  # a copy, zeroed where a window's gradient has been given out
    if g.tile():
        # Each pixel is under one window and one offset: each offset's share is written straight
        # into its pixels (no zeros, no adds), except that a VALID remainder no window covers is 0.
        exact = padded.shape[1:3] == (g.oh * g.kh, g.ow * g.kw)
        result = (xp.empty if exact else xp.zeros)(padded.shape, dtype=grad.dtype)
        windows, result_windows = g.window_view(xp, padded), g.window_view(xp, result)
        last = (g.kh - 1, g.kw - 1)
        for i in range(g.kh):
            for j in range(g.kw):
                hit = windows[:, :, :, i, j] == pooled
                # (into a contiguous temporary first: a float-by-bool product written straight into
                # the strided view runs NumPy's slow casting loop)
                result_windows[:, :, :, i, j] = remaining * hit
                if (i, j) != last:
                    xp.multiply(remaining, xp.logical_not(hit, out=hit), out=remaining)
        return g.crop(result)
    # Overlapping (or gapped) windows: a pixel may be the maximum of several windows; add the shares.
    result = xp.zeros(padded.shape, dtype=grad.dtype)
    for window in g.offsets():
        hit = padded[window] == pooled
        result[window] += remaining * hit
        xp.multiply(remaining, xp.logical_not(hit, out=hit), out=remaining)
    return g.crop(result)


register_op("MaxPoolGrad", shape=_max_pool_grad_shape, kernel=_max_pool_grad_kernel)


@register_gradient("MaxPoolGrad")
def _MaxPoolGradGrad(op, grad):
    """MaxPoolGrad routes each window's gradient to one fixed element: linear in the routed
    gradient; the routing itself is piecewise constant in the image (a zero gradient there)."""
    x, pooled, _ = op.inputs
    return [array_ops.zeros_like(x), array_ops.zeros_like(pooled),
            apply_op("MaxPoolGradGrad", [x, pooled, grad], _pool_attrs_of(op))]


def _max_pool_grad_grad_shape(inputs, **attrs):
    return [(inputs[1].shape, check_same_dtype(inputs))]


def _max_pool_grad_grad_kernel(xp, x, pooled, grad, **attrs):
    """For each window: the value of `grad` (image-shaped) at the window's chosen maximum."""
    g = _pool_windows(x.shape, **attrs)
    padded = g.pad(xp, x, _lowest(xp, x.dtype))
    padded_grad = g.pad(xp, grad)
    result = xp.zeros(pooled.shape, dtype=grad.dtype)
    for window, hit in _max_positions(xp, g, padded, pooled):
        result += padded_grad[window] * hit
    return result


register_op("MaxPoolGradGrad", shape=_max_pool_grad_grad_shape, kernel=_max_pool_grad_grad_kernel)


@register_gradient("MaxPoolGradGrad")
def _MaxPoolGradGradGrad(op, grad):
    """Picking values at the maxima is the adjoint of routing to them: MaxPoolGrad."""
    x, pooled, _ = op.inputs
    return [array_ops.zeros_like(x), array_ops.zeros_like(pooled),
            apply_op("MaxPoolGrad", [x, pooled, grad], _pool_attrs_of(op))]


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
    return apply_op("AvgPool", [value], _pool_attrs(ksize, strides, padding, data_format), name=name)


def _window_counts(xp, g, dtype):
    """[1, oh, ow, 1]: how many real (unpadded) pixels each window covers."""
    ones = g.pad(xp, xp.ones((1, g.h, g.w, 1), dtype=dtype))
    return sum(ones[window] for window in g.offsets())


def _avg_pool_kernel(xp, x, **attrs):
    g = _pool_windows(x.shape, **attrs)
    padded = g.pad(xp, x)
    total = sum(padded[window] for window in g.offsets())
    return total / _window_counts(xp, g, x.dtype)


register_op("AvgPool", shape=_pool_shape, kernel=_avg_pool_kernel)


@register_gradient("AvgPool")
def _AvgPoolGrad(op, grad):
    """Each window's gradient is shared equally among the pixels it averaged."""
    return [apply_op("AvgPoolGrad", [array_ops.shape(op.inputs[0]), grad], _pool_attrs_of(op))]


def _avg_pool_grad_shape(inputs, **attrs):
    sizes, grad = inputs
    n, h, w, c = _static_sizes(sizes)
    gn, _, _, gc = _rank_dims(grad.shape)
    return [(TensorShape([_merge(n, gn, "batch size"), h, w, _merge(c, gc, "depth")]), grad.dtype.base_dtype)]


def _avg_pool_grad_kernel(xp, input_sizes, grad, **attrs):
    shape = tuple(int(d) for d in input_sizes.tolist())
    g = _pool_windows(shape, **attrs)
    share = grad / _window_counts(xp, g, grad.dtype)
    result = xp.zeros((shape[0], g.padded_h, g.padded_w, shape[3]), dtype=grad.dtype)
    for window in g.offsets():
        result[window] += share
    return g.crop(result)


register_op("AvgPoolGrad", shape=_avg_pool_grad_shape, kernel=_avg_pool_grad_kernel)


@register_gradient("AvgPoolGrad")
def _AvgPoolGradGrad(op, grad):
    """AvgPoolGrad is linear in its gradient input, and its adjoint is average pooling again."""
    return [None, apply_op("AvgPool", [grad], _pool_attrs_of(op))]
