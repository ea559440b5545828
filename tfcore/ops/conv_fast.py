"""Fast kernels for the convolution and pooling ops of conv_ops.py, on the CPU and the GPU.

They give the results of conv_ops' reference kernels (tests/tfcore/test_fast_kernels.py checks
them against those) with less memory traffic. They share one idea. Pad the image, then look at it
through a strided *window view* ([N, oh, ow, kh, kw, C], no copy): element [n, y, x, i, j, c] is the
padded pixel that kernel offset (i, j) touches for output pixel (y, x), i.e.
padded[n, y*sh + i*dh, x*sw + j*dw, c].

A convolution copies the view once into a patch matrix [N*oh*ow, kh*kw*C] ("im2col") and does one
BLAS matrix product with the [kh*kw*C, out] filter, piece by piece (a few images, or a few output
rows of one image, at a time) so that each piece stays in the cache and memory stays flat. The
pieces are independent: the kernels hand them to `ctx.map`, which may run them on several threads
(tfcore/client/scheduler.py); pieces of whole images pad their own images, so no padded copy of
the whole batch is made. A convolution followed by its bias and ReLU is one kernel
(`register_fusion`): each piece's result gets its bias and ReLU while it is still in the cache.
Its input gradient, for stride 1, is itself a convolution (of the gradient, with the filter flipped
and its channel axes swapped: a "transposed convolution") and takes the same path; for larger
strides it adds each offset's share back through the same view of a zeros image ("col2im", one
strided add per offset: a fixed offset never hits a pixel twice). Pooling takes the max or the sum
over the offsets' strided slices, a few images at a time (`image_pieces`); when the windows tile
the image (ksize == strides, as in 2x2 max pooling) the max-pool gradient writes each pixel once
instead of adding. No Python loop ever runs over pixels.

NOTE (CuPy): the window view uses `xp.lib.stride_tricks.as_strided`, which NumPy and CuPy both have.
"""

from tfcore.framework.registry import get_op_def, register_fast_kernel, register_fusion
from tfcore.ops import activation_ops, conv_ops, nn_ops  # noqa: F401 - register the ops these kernels are for
from tfcore.ops.conv_geometry import Windows, lowest

# im2col builds its patch matrix in pieces of at most this many bytes: small enough to stay in the
# CPU's cache between the copy and the matrix product, and to keep memory flat (one VGG19 layer at
# 512x512 would need gigabytes at once). How the size was chosen: benchmarks/README.md, "Kernel
# choices in conv_ops".
IM2COL_PIECE_BYTES = 2 * 2**20
# Pooling works through the batch a few images at a time, about this many bytes of input each.
POOL_PIECE_BYTES = 2**20


def image_pieces(n, image_bytes):
    """Batch slices of about POOL_PIECE_BYTES of images each, covering `n` images."""
    per = max(1, POOL_PIECE_BYTES // max(image_bytes, 1))
    return [slice(b, min(b + per, n)) for b in range(0, n, per)]


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

    def each_piece(self, ctx, image, depth, work):
        """``[work(windows, piece) for piece in pieces]`` through `ctx.map`: `piece` is a (batch
        slice, output-row slice) of `pieces`, `windows` the window view of the padded image for it.
        Pieces of whole images pad only their images; pieces of rows share one padded image."""
        xp = ctx.xp
        pieces = self.pieces(image.shape[0], depth, image.dtype.itemsize)
        if pieces[0][1] == slice(None):
            return ctx.map(lambda p: work(self.window_view(xp, self.pad(xp, image[p[0]])), p), pieces)
        windows = self.window_view(xp, self.pad(xp, image))
        return ctx.map(lambda p: work(windows[p], p), pieces)

    def padded_like(self, xp, out, fill):
        """An array of the padded image's shape to compute a gradient piece in: `out` itself where
        there is no padding, else a new one; `fill` 0 or None (left unset)."""
        if (self.padded_h, self.padded_w) == (self.h, self.w):
            if fill is not None:
                out[...] = fill
            return out
        make = xp.empty if fill is None else xp.zeros
        return make((out.shape[0], self.padded_h, self.padded_w, out.shape[3]), dtype=out.dtype)

    def store(self, padded, out):
        """Put the image part of `padded` (from `padded_like`) into `out`."""
        if padded is not out:
            out[...] = self.crop(padded)


# ================================================================================================
# Conv2D (alone, and fused with BiasAdd and Relu), Conv2DBackpropInput, Conv2DBackpropFilter
# ================================================================================================


def _im2col_matmul(ctx, g, image, weights, result, epilogue=None):
    """Fill `result` [N, oh, ow, out] with every window of `image` padded by `g` (flattened in
    (i, j, c) order) times `weights` [kh*kw*C, out]: one im2col copy and one BLAS product per piece,
    then `epilogue(block)` on the piece's block of the result, in place."""
    xp, k = ctx.xp, weights.shape[0]

    def product(windows, piece):
        patches = windows.reshape(-1, k)  # im2col: the one copy of the input
        # A piece is whole images or whole rows of one image: a contiguous block of `result`, so the
        # reshape is a view and the product lands in place.
        block = result[piece].reshape(-1, weights.shape[1])
        xp.matmul(patches, weights, out=block)
        if epilogue is not None:
            epilogue(block)

    g.each_piece(ctx, image, image.shape[3], product)
    return result


def _conv2d(ctx, x, filter, attrs, epilogue=None):
    kh, kw, c, out = filter.shape
    g = FastWindows.for_conv(x.shape, (kh, kw), attrs)
    result = ctx.xp.empty((x.shape[0], g.oh, g.ow, out), dtype=x.dtype)
    # the filter's rows are already in the (i, j, c) order of a flattened window
    return _im2col_matmul(ctx, g, x, filter.reshape(-1, out), result, epilogue)


def _conv2d_kernel(ctx, x, filter, **attrs):
    """Conv2D: im2col in pieces, one matrix product per piece."""
    return _conv2d(ctx, x, filter, attrs)


def _conv2d_bias_relu_kernel(ctx, x, filter, bias, attrs):
    """Conv2D, BiasAdd and (where the chain has it) Relu: each piece's block of the convolution gets
    the bias added and the ReLU applied while it is in the cache."""
    xp, relu = ctx.xp, len(attrs) == 3
    if attrs[1]["data_format"] == "NCHW":  # the bias would go along axis 1: not this fusion's case
        value = get_op_def("BiasAdd").kernel(ctx, _conv2d(ctx, x, filter, attrs[0]), bias, "NCHW")
        return xp.maximum(value, 0, out=value) if relu else value
    bias = bias.astype(x.dtype, copy=False)

    def bias_relu(block):
        xp.add(block, bias, out=block)
        if relu:
            xp.maximum(block, 0, out=block)

    return _conv2d(ctx, x, filter, attrs[0], bias_relu)


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
        return _im2col_matmul(ctx, t, out_backprop, flipped, result)
    grad = xp.zeros((n, g.padded_h, g.padded_w, c), dtype=out_backprop.dtype)
    windows = g.window_view(xp, grad)
    weights_t = filter.reshape(-1, out).T

    def add_back(piece):
        # Each output pixel sends grad @ filter[i, j]^T back to the input pixel under offset (i, j).
        cols = xp.matmul(out_backprop[piece].reshape(-1, out), weights_t)
        window = windows[piece]
        cols = cols.reshape(window.shape)
        for i in range(kh):
            for j in range(kw):
                window[:, :, :, i, j] += cols[:, :, :, i, j]

    pieces = g.pieces(n, c, grad.dtype.itemsize)
    if pieces[0][1] == slice(None):  # whole images: their windows never meet
        ctx.map(add_back, pieces)
    else:  # rows of one image: neighbouring rows' windows overlap, so one after another
        for piece in pieces:
            add_back(piece)
    return g.crop(grad)


def _conv2d_backprop_filter_kernel(ctx, x, filter_sizes, out_backprop, **attrs):
    """Conv2DBackpropFilter: im2col in pieces, the pieces' products summed in piece order."""
    xp = ctx.xp
    kh, kw, c, out = (int(d) for d in filter_sizes.tolist())
    g = FastWindows.for_conv(x.shape, (kh, kw), attrs)
    g.check_output(out_backprop.shape, "Conv2DBackpropFilter")
    products = g.each_piece(ctx, x, c, lambda windows, piece: xp.matmul(
        windows.reshape(-1, kh * kw * c).T, out_backprop[piece].reshape(-1, out)))
    grad = products[0]
    for product in products[1:]:
        grad += product
    return grad.reshape(kh, kw, c, out)


# ================================================================================================
# MaxPool, MaxPoolGrad, MaxPoolGradGrad, AvgPool, AvgPoolGrad: a few images at a time
# ================================================================================================


def _by_images(ctx, shape, dtype, image_shape, work):
    """A new [shape] array filled by ``work(b, result[b])`` for the batch slices b of images of
    `image_shape`, a few images at a time."""
    result = ctx.xp.empty(shape, dtype=dtype)
    n, h, w, c = image_shape
    ctx.map(lambda b: work(b, result[b]), image_pieces(n, h * w * c * result.dtype.itemsize))
    return result


def _max_pool_kernel(ctx, x, **attrs):
    """MaxPool: a running maximum over the offsets' strided slices."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)

    def pool(b, out):
        padded = g.pad(xp, x[b], lowest(xp, x.dtype))
        windows = g.offsets()
        out[...] = padded[next(windows)]
        for window in windows:
            xp.maximum(out, padded[window], out=out)

    return _by_images(ctx, (x.shape[0], g.oh, g.ow, x.shape[3]), x.dtype, x.shape, pool)


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
    exact = (g.padded_h, g.padded_w) == (g.oh * g.kh, g.ow * g.kw)

    def scatter(b, out):
        padded = g.pad(xp, x[b], lowest(xp, x.dtype))
        remaining = xp.array(grad[b])  # a copy, zeroed where a window's gradient has been given out
        if g.tile():
            # Each pixel is under one window and one offset: each offset's share is written straight
            # into its pixels (no zeros, no adds), except that a VALID remainder no window covers is 0.
            result = g.padded_like(xp, out, None if exact else 0)
            windows, result_windows = g.window_view(xp, padded), g.window_view(xp, result)
            last = (g.kh - 1, g.kw - 1)
            for i in range(g.kh):
                for j in range(g.kw):
                    hit = windows[:, :, :, i, j] == pooled[b]
                    # (into a contiguous temporary first: a float-by-bool product written straight
                    # into the strided view runs NumPy's slow casting loop)
                    result_windows[:, :, :, i, j] = remaining * hit
                    if (i, j) != last:
                        xp.multiply(remaining, xp.logical_not(hit, out=hit), out=remaining)
            return g.store(result, out)
        # Overlapping (or gapped) windows: a pixel may be the maximum of several windows: add the shares.
        result = g.padded_like(xp, out, 0)
        for window in g.offsets():
            hit = padded[window] == pooled[b]
            result[window] += remaining * hit
            xp.multiply(remaining, xp.logical_not(hit, out=hit), out=remaining)
        g.store(result, out)

    return _by_images(ctx, x.shape, grad.dtype, x.shape, scatter)


def _max_pool_grad_grad_kernel(ctx, x, pooled, grad, **attrs):
    """For each window: the value of `grad` (image-shaped) at the window's chosen maximum."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)

    def gather(b, out):
        padded, padded_grad = g.pad(xp, x[b], lowest(xp, x.dtype)), g.pad(xp, grad[b])
        out[...] = 0
        for window, hit in _max_positions(xp, g, padded, pooled[b]):
            out += padded_grad[window] * hit

    return _by_images(ctx, pooled.shape, grad.dtype, x.shape, gather)


def _avg_pool_kernel(ctx, x, **attrs):
    """AvgPool: the sum of the offsets' strided slices over each window's count of real pixels."""
    xp = ctx.xp
    g = FastWindows.for_pool(x.shape, **attrs)
    counts = g.counts(xp, x.dtype)

    def average(b, out):
        padded = g.pad(xp, x[b])
        xp.divide(sum(padded[window] for window in g.offsets()), counts, out=out)

    return _by_images(ctx, (x.shape[0], g.oh, g.ow, x.shape[3]), x.dtype, x.shape, average)


def _avg_pool_grad_kernel(ctx, input_sizes, grad, **attrs):
    """AvgPoolGrad: each window's share added through each offset's strided slice."""
    xp = ctx.xp
    shape = tuple(int(d) for d in input_sizes.tolist())
    g = FastWindows.for_pool(shape, **attrs)
    counts = g.counts(xp, grad.dtype)

    def spread(b, out):
        share = grad[b] / counts
        result = g.padded_like(xp, out, 0)
        for window in g.offsets():
            result[window] += share
        g.store(result, out)

    return _by_images(ctx, shape, grad.dtype, shape, spread)


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
# chain of op types -> the kernel doing their work in one pass
FUSIONS = {
    ("Conv2D", "BiasAdd", "Relu"): _conv2d_bias_relu_kernel,
    ("Conv2D", "BiasAdd"): _conv2d_bias_relu_kernel,
}


def register(device_kind):
    """Register these kernels as their ops' fast kernels, and the fusions, on devices of `device_kind`."""
    for op_type, kernel in FAST_KERNELS.items():
        register_fast_kernel(op_type, device_kind, kernel)
    for types, kernel in FUSIONS.items():
        register_fusion(types, device_kind, kernel)


# The kernels are written against `ctx.xp` and run on NumPy and CuPy alike.
register("CPU")
register("GPU")
