"""Fast kernels for the convolution and pooling ops of conv_ops.py, on the CPU and the GPU.

They give the results of conv_ops' reference kernels (tests/tfcore/test_fast_kernels.py checks
them against those) with less memory traffic. They share one idea. Pad the image, then look at it
through a strided *window view* ([N, oh, ow, kh, kw, C], no copy): element [n, y, x, i, j, c] is the
padded pixel that kernel offset (i, j) touches for output pixel (y, x), i.e.
padded[n, y*sh + i*dh, x*sw + j*dw, c].

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

from tfcore.framework.registry import register_fast_kernel
from tfcore.ops import conv_ops  # noqa: F401 - registers the ops these kernels are for
from tfcore.ops.conv_geometry import Windows, lowest

# im2col builds its patch matrix in pieces of at most this many bytes: small enough to stay in the
# CPU's cache between the copy and the matrix product, and to keep memory flat (one VGG19 layer at
# 512x512 would need gigabytes at once). How the size was chosen: benchmarks/README.md, "Kernel
# choices in conv_ops".
IM2COL_PIECE_BYTES = 2 * 2**20


class FastWindows(Windows):
    """The window geometry, with the views and the pieces the fast kernels work through."""

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
        return FastWindows(self.oh, self.ow, self.kh, self.kw, [1, 1, 1, 1], [1, self.dh, self.dw, 1],
                           "EXPLICIT", [0, 0, top, bottom, left, right, 0, 0])

    def tile(self):
        """Whether the windows tile the image: no overlaps, no gaps (ksize == strides, no dilation).
        Then every pixel lies under exactly one window and one offset (pixels of a VALID remainder
        under none)."""
        return (self.kh, self.kw) == (self.sh, self.sw) and (self.dh, self.dw) == (1, 1)


# ================================================================================================
# Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter
# ================================================================================================


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


def _conv2d_kernel(ctx, x, filter, **attrs):
    """Conv2D: im2col in pieces, one matrix product per piece."""
    xp = ctx.xp
    kh, kw, c, out = filter.shape
    g = FastWindows.for_conv(x.shape, (kh, kw), attrs)
    result = xp.empty((x.shape[0], g.oh, g.ow, out), dtype=x.dtype)
    # the filter's rows are already in the (i, j, c) order of a flattened window
    return _im2col_matmul(xp, g, g.pad(xp, x), filter.reshape(-1, out), result)


def _conv2d_backprop_input_kernel(ctx, input_sizes, filter, out_backprop, **attrs):
    """Conv2DBackpropInput: a transposed convolution (stride 1, out <= 2c), else strided adds."""
    xp = ctx.xp
    n, h, w, c = (int(d) for d in input_sizes.tolist())
    kh, kw, _, out = filter.shape
    g = FastWindows.for_conv((n, h, w, c), (kh, kw), attrs)
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


def _conv2d_backprop_filter_kernel(ctx, x, filter_sizes, out_backprop, **attrs):
    """Conv2DBackpropFilter: im2col in pieces, the pieces' products summed."""
    xp = ctx.xp
    kh, kw, c, out = (int(d) for d in filter_sizes.tolist())
    g = FastWindows.for_conv(x.shape, (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropFilter")
    windows = g.window_view(xp, g.pad(xp, x))
    grad = xp.zeros((kh * kw * c, out), dtype=x.dtype)
    for piece in g.pieces(x.shape[0], c, x.dtype.itemsize):
        patches = windows[piece].reshape(-1, kh * kw * c)
        grad += xp.matmul(patches.T, out_backprop[piece].reshape(-1, out))
    return grad.reshape(kh, kw, c, out)


# ================================================================================================
# MaxPool, MaxPoolGrad, MaxPoolGradGrad
# ================================================================================================


def _max_pool_kernel(ctx, x, **attrs):
    """MaxPool: a running maximum over the offsets' strided slices."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)
    padded = g.pad(xp, x, lowest(xp, x.dtype))
    windows = g.offsets()
    out = xp.array(padded[next(windows)])  # a copy: the running maximum is updated in place
    for window in windows:
        xp.maximum(out, padded[window], out=out)
    return out


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


def _max_pool_grad_kernel(ctx, x, pooled, grad, **attrs):
    """Each window's gradient goes to its first maximum (row-major order, TF's rule on ties).

    Offset by offset: the elements under that offset that equal their window's maximum take what is
    left of the window's gradient (`remaining`), and those windows have nothing left for later offsets.
    Products with the 0/1 mask, not `where` or masked assignment (branchy: several times slower).
    """
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)
    padded = g.pad(xp, x, lowest(xp, x.dtype))
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


def _max_pool_grad_grad_kernel(ctx, x, pooled, grad, **attrs):
    """For each window: the value of `grad` (image-shaped) at the window's chosen maximum."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)
    padded = g.pad(xp, x, lowest(xp, x.dtype))
    padded_grad = g.pad(xp, grad)
    result = xp.zeros(pooled.shape, dtype=grad.dtype)
    for window, hit in _max_positions(xp, g, padded, pooled):
        result += padded_grad[window] * hit
    return result


# ================================================================================================
# AvgPool, AvgPoolGrad
# ================================================================================================


def _avg_pool_kernel(ctx, x, **attrs):
    """AvgPool: the sum of the offsets' strided slices over each window's count of real pixels."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)
    padded = g.pad(xp, x)
    total = sum(padded[window] for window in g.offsets())
    return total / g.counts(xp, x.dtype)


def _avg_pool_grad_kernel(ctx, input_sizes, grad, **attrs):
    """AvgPoolGrad: each window's share added through each offset's strided slice."""
    xp = ctx.xp
    shape = tuple(int(d) for d in input_sizes.tolist())
    g = FastWindows.for_pool(shape, **attrs)
    share = grad / g.counts(xp, grad.dtype)
    result = xp.zeros((shape[0], g.padded_h, g.padded_w, shape[3]), dtype=grad.dtype)
    for window in g.offsets():
        result[window] += share
    return g.crop(result)


# ================================================================================================
# Registration
# ================================================================================================

# op type -> its fast kernel
FAST_KERNELS = {
    "Conv2D": _conv2d_kernel,
    "Conv2DBackpropInput": _conv2d_backprop_input_kernel,
    "Conv2DBackpropFilter": _conv2d_backprop_filter_kernel,
    "MaxPool": _max_pool_kernel,
    "MaxPoolGrad": _max_pool_grad_kernel,
    "MaxPoolGradGrad": _max_pool_grad_grad_kernel,
    "AvgPool": _avg_pool_kernel,
    "AvgPoolGrad": _avg_pool_grad_kernel,
}


def register(device_kind):
    """Register these kernels as their ops' fast kernels on devices of `device_kind`."""
    for op_type, kernel in FAST_KERNELS.items():
        register_fast_kernel(op_type, device_kind, kernel)


# The kernels are written against `ctx.xp` and run on NumPy and CuPy alike.
register("CPU")
register("GPU")
