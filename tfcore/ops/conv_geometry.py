"""Window geometry, TF's argument conventions and static shapes for the ops of conv_ops.py.

A windowed op on an NHWC image slides a kh x kw window over the image, padded on its spatial axes.
Output pixel (y, x) sees, under kernel offset (i, j), the padded pixel

    padded[n, y*sh + i*dh, x*sw + j*dw, c]

(strides sh, sw; dilations dh, dw). For one fixed offset those pixels form a strided slice of the
padded image, [N, oh, ow, C]: `Windows.offsets` yields these slices in row-major offset order, and
every kernel, reference or fast, is built from them. `Windows.im2col` stacks them into each output
pixel's window; `Windows.col2im` is its adjoint.
"""

import numpy as np

from tfcore.framework.constant_folding import partial_shape_value


def spatial_size(in_size, k, stride, dilation, padding, explicit=(0, 0)):
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


class Windows:
    """The geometry of one windowed op on an NHWC image of height h and width w."""

    def __init__(self, h, w, kh, kw, strides, dilations, padding, explicit_paddings=()):
        explicit = list(explicit_paddings) or [0] * 8
        self.kh, self.kw = kh, kw
        self.sh, self.sw = strides[1], strides[2]
        self.dh, self.dw = dilations[1], dilations[2]
        self.oh, self.top, bottom = spatial_size(h, kh, self.sh, self.dh, padding, explicit[2:4])
        self.ow, self.left, right = spatial_size(w, kw, self.sw, self.dw, padding, explicit[4:6])
        self.h, self.w = h, w
        self.padded_h, self.padded_w = h + self.top + bottom, w + self.left + right

    @classmethod
    def for_conv(cls, input_shape, filter_hw, attrs):
        """The geometry of a convolution of an `input_shape` image with a filter of `filter_hw`."""
        return cls(int(input_shape[1]), int(input_shape[2]), int(filter_hw[0]), int(filter_hw[1]),
                   attrs["strides"], attrs["dilations"], attrs["padding"], attrs["explicit_paddings"])

    @classmethod
    def for_pool(cls, shape, ksize, strides, padding, data_format):
        """The geometry of a pooling op (its attributes as keywords) on an image of `shape`."""
        return cls(int(shape[1]), int(shape[2]), ksize[1], ksize[2], strides, [1, 1, 1, 1], padding)

    def pad(self, xp, x, value=0):
        """`x` padded on its spatial axes with `value` (a new array; `x` itself is never modified)."""
        if (self.padded_h, self.padded_w) == (self.h, self.w):
            return x
        padded = xp.full((x.shape[0], self.padded_h, self.padded_w, x.shape[3]), value, dtype=x.dtype)
        padded[:, self.top:self.top + self.h, self.left:self.left + self.w, :] = x
        return padded

    def offsets(self):
        """For each kernel offset (in row-major order): the slice of the padded image it reads."""
        for i in range(self.kh):
            for j in range(self.kw):
                rows = slice(i * self.dh, i * self.dh + (self.oh - 1) * self.sh + 1, self.sh)
                cols = slice(j * self.dw, j * self.dw + (self.ow - 1) * self.sw + 1, self.sw)
                yield (slice(None), rows, cols, slice(None))

    def im2col(self, xp, padded):
        """[N, oh, ow, kh*kw, C]: every output pixel's window of the padded image, offsets in row-major
        order: patches[n, y, x, i*kw + j, c] = padded[n, y*sh + i*dh, x*sw + j*dw, c]."""
        return xp.stack([padded[window] for window in self.offsets()], axis=3)

    def col2im(self, xp, cols):
        """The adjoint of `im2col`: the [N, h, w, C] image in which each pixel is the sum of the
        entries of `cols` [N, oh, ow, kh*kw, C] read from it (padding positions dropped)."""
        image = xp.zeros((cols.shape[0], self.padded_h, self.padded_w, cols.shape[4]), dtype=cols.dtype)
        for k, window in enumerate(self.offsets()):
            image[window] += cols[:, :, :, k]  # one offset never reads a pixel twice
        return self.crop(image)

    def counts(self, xp, dtype):
        """[1, oh, ow, 1]: how many real (unpadded) pixels each window covers."""
        ones = self.pad(xp, xp.ones((1, self.h, self.w, 1), dtype=dtype))
        return sum(ones[window] for window in self.offsets())

    def crop(self, padded):
        """The part of a padded-size array that lies over the original image."""
        return padded[:, self.top:self.top + self.h, self.left:self.left + self.w, :]

    def check_output(self, out_shape, what):
        """ValueError naming op `what` unless `out_shape` has this geometry's output height and width."""
        if tuple(out_shape[1:3]) != (self.oh, self.ow):
            raise ValueError(f"{what}: size of out_backprop doesn't match computed: actual = "
                             f"{tuple(out_shape[1:3])}, computed = {(self.oh, self.ow)}")


def lowest(xp, dtype):
    """The padding value of max pooling: below every value of `dtype`, so that it never wins."""
    return -xp.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


# ================================================================================================
# TF's arguments: strides, ksize, dilations, padding, data_format
# ================================================================================================


def sequence(value, name, allow_2=True):
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


def nhwc(data_format):
    """"NHWC", the only layout tfcore supports; ValueError for any other."""
    if data_format not in (None, "NHWC"):
        raise ValueError(f"tfcore supports data_format='NHWC' only (got {data_format!r}): keep images as "
                         "[batch, height, width, channels]")
    return "NHWC"


def padding_attrs(padding, allow_explicit):
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


def conv_attrs(strides, padding, dilations, data_format):
    """The attributes of a convolution op from the arguments of its wrapper."""
    padding, explicit = padding_attrs(padding, allow_explicit=True)
    return {"strides": sequence(strides, "strides"), "padding": padding, "explicit_paddings": explicit,
            "dilations": sequence(dilations if dilations is not None else 1, "dilations"),
            "data_format": nhwc(data_format)}


def pool_attrs(ksize, strides, padding, data_format):
    """The attributes of a pooling op from the arguments of its wrapper."""
    return {"ksize": sequence(ksize, "ksize"), "strides": sequence(strides, "strides"),
            "padding": padding_attrs(padding, allow_explicit=False)[0], "data_format": nhwc(data_format)}


def conv_attrs_of(op):
    """The attributes of a convolution op, for the ops of its gradient."""
    names = ("strides", "padding", "explicit_paddings", "dilations", "data_format")
    return {k: op.get_attr(k) for k in names}


def pool_attrs_of(op):
    """The attributes of a pooling op, for the ops of its gradient."""
    return {k: op.get_attr(k) for k in ("ksize", "strides", "padding", "data_format")}


# ================================================================================================
# Static shapes
# ================================================================================================


def rank_dims(shape, rank=4):
    """A static shape as a list of `rank` ints/None (all None when the rank is unknown)."""
    if shape.ndims is None:
        return [None] * rank
    if shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape.as_list()


def merge(a, b, what):
    """The one known value of two static sizes; ValueError saying `what` when they differ."""
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: {a} vs {b}")
    return a if a is not None else b


def conv_output_shape(input_dims, filter_dims, attrs):
    """The static [N, oh, ow, out_channels] of a convolution."""
    n, h, w, c = input_dims
    kh, kw, c2, out = filter_dims
    merge(c, c2, "input depth must match the filter's input depth")
    s, d = attrs["strides"], attrs["dilations"]
    explicit = attrs["explicit_paddings"] or [0] * 8
    oh = spatial_size(h, kh, s[1], d[1], attrs["padding"], explicit[2:4])[0] if kh is not None else None
    ow = spatial_size(w, kw, s[2], d[2], attrs["padding"], explicit[4:6])[0] if kw is not None else None
    return [n, oh, ow, out]


def static_sizes(t):
    """The values of a 4-element sizes tensor, as far as they are known at build time."""
    if t.shape.ndims not in (None, 1) or t.shape[0].value not in (None, 4):
        raise ValueError(f"sizes must be a 1-D tensor of 4 elements, got shape {t.shape}")
    known = partial_shape_value(t)
    return known if known is not None and len(known) == 4 else [None] * 4
