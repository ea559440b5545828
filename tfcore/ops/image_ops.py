"""Image resizing on NHWC batches (tf.image.*): nearest neighbour and bilinear, their gradients, and
TF1's `resize_images` front door with its `ResizeMethod` enum.

Each op is one block: public wrapper, shape function, kernel (against `ctx.xp`), gradient.

Both resizers work one spatial axis at a time. For each output row (and, separately, each output
column) a small table says which input rows it reads: one row for nearest neighbour; a lower and an
upper row and the weight `lerp` of the upper one for bilinear. The tables are computed on the host,
in single precision, exactly as TF's kernels compute them (so a pixel that sits on a rounding edge
picks the same neighbour as in TF); the kernels then only gather rows and columns, and the gradient
kernels scatter them back (`_scatter_add`, the adjoint of gathering). No Python loop runs over pixels.
The tables, the scatter and the checks both resizers share are in resize_geometry.py.

Where an output position lands in the input (per axis, in = input size, out = output size):

    scale = (in - 1) / (out - 1)   with align_corners (and out > 1): the corner pixels' centres match
          = in / out               otherwise
    bilinear:          x * scale, or (x + 0.5) * scale - 0.5 with half_pixel_centers
    nearest neighbour: floor(x * scale) (rounded instead with align_corners), or
                       floor((x + 0.5) * scale) with half_pixel_centers

The legacy default (neither flag) is TF1's: it shifts the image by half a pixel towards the top left,
which is why TF 2 made half_pixel_centers the default of `tf.image.resize`.
"""

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.constant_folding import partial_shape_value
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.registry import register_gradient, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops, binary_ops, dimension_ops, elementwise_ops, join_ops, math_ops
from tfcore.ops.resize_geometry import (
    _bilinear_rows,
    _flags_of,
    _image_dims,
    _nearest_rows,
    _out_size,
    _resize_op,
    _resize_shape,
    _scatter_add,
    _size_dims,
    _spatial_size,
)
from tfcore.ops.scopes import name_scope

# Public names; tfcore/image.py exports them as tf.image.<name>.
__all__ = [
    "ResizeMethod",
    "resize_nearest_neighbor",
    "resize_bilinear",
    "resize_images",
    "resize",
]


# ================================================================================================
# ResizeNearestNeighbor, ResizeNearestNeighborGrad
# ================================================================================================


def resize_nearest_neighbor(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Resize NHWC `images` to `size` = [new_height, new_width] by copying, for each output pixel, the
    input pixel it falls on (see the module docstring for where that is). Keeps the dtype."""
    return _resize_op("ResizeNearestNeighbor", images, size, align_corners, half_pixel_centers, name)


def _resize_nearest_neighbor_kernel(ctx, images, size, align_corners, half_pixel_centers):
    xp = ctx.xp
    _, h, w, _ = images.shape
    out_h, out_w = _out_size(size)
    rows = xp.asarray(_nearest_rows(h, out_h, align_corners, half_pixel_centers))
    cols = xp.asarray(_nearest_rows(w, out_w, align_corners, half_pixel_centers))
    return images[:, rows][:, :, cols]


register_op("ResizeNearestNeighbor", kernel=_resize_nearest_neighbor_kernel,
            shape=lambda inputs, **attrs: _resize_shape(inputs, lambda dtype: dtype, **attrs),
            host_memory=(1,))


@register_gradient("ResizeNearestNeighbor")
def _ResizeNearestNeighborGrad(op, grad):
    """Each input pixel was copied to some output pixels (maybe none): it gets the sum of their
    gradients. The size input gets none."""
    image = op.inputs[0]
    return [apply_op("ResizeNearestNeighborGrad", [grad, _spatial_size(image)], _flags_of(op)), None]


def _resize_nearest_neighbor_grad_shape(inputs, **attrs):
    grads, size = inputs
    n, _, _, c = _image_dims(grads.shape, "grads")
    height, width = _size_dims(size)
    return [(TensorShape([n, height, width, c]), grads.dtype.base_dtype)]


def _resize_nearest_neighbor_grad_kernel(ctx, grads, size, align_corners, half_pixel_centers):
    xp = ctx.xp
    _, out_h, out_w, _ = grads.shape
    h, w = _out_size(size)  # the original image's size
    rows = _nearest_rows(h, out_h, align_corners, half_pixel_centers)
    cols = _nearest_rows(w, out_w, align_corners, half_pixel_centers)
    return _scatter_add(xp, _scatter_add(xp, grads, rows, h, axis=1), cols, w, axis=2)


register_op("ResizeNearestNeighborGrad", shape=_resize_nearest_neighbor_grad_shape,
            kernel=_resize_nearest_neighbor_grad_kernel, host_memory=(1,))


@register_gradient("ResizeNearestNeighborGrad")
def _ResizeNearestNeighborGradGrad(op, grad):
    """Summing the copies back is linear in the gradient, and its adjoint is the copying itself:
    resize `grad` to the size of the gradient it summed. (TF has no such rule.)"""
    grads = op.inputs[0]
    return [apply_op("ResizeNearestNeighbor", [grad, _spatial_size(grads)], _flags_of(op)), None]


# ================================================================================================
# ResizeBilinear, ResizeBilinearGrad
# ================================================================================================


def _bilinear_dtype(dtype):
    """The dtype ResizeBilinear returns: float32, whatever the image's type, as in TF.

    NOTE: TF also turns float64 images into float32 (it computes in single precision); tfcore keeps
    float64 as float64, so that a double-precision program stays double (and the engine's float64
    gradient checks can check this op). Within float32 precision the values are TF's.
    """
    return dtypes.float64 if dtype == dtypes.float64 else dtypes.float32


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Resize NHWC `images` to `size` = [new_height, new_width]: each output pixel mixes the four input
    pixels around the point it falls on, weighted by closeness (first along the width, then along
    the height). Returns float32 (float64 for float64 images)."""
    return _resize_op("ResizeBilinear", images, size, align_corners, half_pixel_centers, name)


def _resize_bilinear_kernel(ctx, images, size, align_corners, half_pixel_centers):
    xp = ctx.xp
    _, h, w, _ = images.shape
    out_h, out_w = _out_size(size)
    dtype = _bilinear_dtype(dtypes.as_dtype(images.dtype)).as_numpy_dtype
    x = images.astype(dtype, copy=False)
    top, bottom, y_lerp = _bilinear_rows(h, out_h, align_corners, half_pixel_centers)
    left, right, x_lerp = _bilinear_rows(w, out_w, align_corners, half_pixel_centers)
    # Along the width, on every input row: left + (right - left) * lerp, as TF writes it.
    left_values, right_values = x[:, :, xp.asarray(left)], x[:, :, xp.asarray(right)]
    rows = left_values + (right_values - left_values) * xp.asarray(x_lerp.astype(dtype))[:, None]
    # Then along the height, between the interpolated rows above and below.
    above, below = rows[:, xp.asarray(top)], rows[:, xp.asarray(bottom)]
    return above + (below - above) * xp.asarray(y_lerp.astype(dtype))[:, None, None]


register_op("ResizeBilinear", kernel=_resize_bilinear_kernel,
            shape=lambda inputs, **attrs: _resize_shape(inputs, _bilinear_dtype, **attrs), host_memory=(1,))


@register_gradient("ResizeBilinear")
def _ResizeBilinearGrad(op, grad):
    """Bilinear resizing is linear in the image: each output pixel's gradient goes back to its four
    input pixels with the same weights that mixed them. The size input gets none (and so does an
    integer image)."""
    image = op.inputs[0]
    if not image.dtype.base_dtype.is_floating:
        return [None, None]
    return [apply_op("ResizeBilinearGrad", [grad, image], _flags_of(op)), None]


def _resize_bilinear_grad_shape(inputs, **attrs):
    grads, image = inputs
    _image_dims(grads.shape, "grads")
    _image_dims(image.shape, "original_image")
    if not grads.dtype.base_dtype.is_floating:
        raise ValueError(f"ResizeBilinearGrad needs floating-point grads, got {grads.dtype.base_dtype.name}")
    return [(image.shape, image.dtype.base_dtype)]


def _resize_bilinear_grad_kernel(ctx, grads, original_image, align_corners, half_pixel_centers):
    xp = ctx.xp
    _, h, w, _ = original_image.shape
    _, out_h, out_w, _ = grads.shape
    dtype = grads.dtype
    top, bottom, y_lerp = _bilinear_rows(h, out_h, align_corners, half_pixel_centers)
    left, right, x_lerp = _bilinear_rows(w, out_w, align_corners, half_pixel_centers)
    # Undo the height step: (1 - lerp) of each row's gradient to the row above, lerp to the one below.
    y_up = xp.asarray((np.float32(1) - y_lerp).astype(dtype))[:, None, None]
    y_down = xp.asarray(y_lerp.astype(dtype))[:, None, None]
    rows = (_scatter_add(xp, grads * y_up, top, h, axis=1)
            + _scatter_add(xp, grads * y_down, bottom, h, axis=1))
    # Then the width step, the same way.
    x_left = xp.asarray((np.float32(1) - x_lerp).astype(dtype))[:, None]
    x_right = xp.asarray(x_lerp.astype(dtype))[:, None]
    result = (_scatter_add(xp, rows * x_left, left, w, axis=2)
              + _scatter_add(xp, rows * x_right, right, w, axis=2))
    return result.astype(original_image.dtype, copy=False)


register_op("ResizeBilinearGrad", shape=_resize_bilinear_grad_shape, kernel=_resize_bilinear_grad_kernel)


@register_gradient("ResizeBilinearGrad")
def _ResizeBilinearGradGrad(op, grad):
    """ResizeBilinearGrad is the adjoint of bilinear resizing, linear in its gradient input: its own
    gradient resizes again, to the gradient's size. The image input is read for its shape only.
    (TF has no such rule.)"""
    grads = op.inputs[0]
    return [apply_op("ResizeBilinear", [grad, _spatial_size(grads)], _flags_of(op)), None]


# ================================================================================================
# resize_images: TF1's front door (method enum, 3-D or 4-D images, aspect ratio)
# ================================================================================================


class ResizeMethod:
    """TF1's resize methods (`tf.image.ResizeMethod`), for `resize_images(..., method=...)`.

    tfcore implements BILINEAR and NEAREST_NEIGHBOR; BICUBIC and AREA are TF's too but raise
    NotImplementedError here.
    """

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


# TF 2's names for the methods, which TF1's resize_images accepts as well.
_METHOD_NAMES = {"bilinear": ResizeMethod.BILINEAR, "nearest": ResizeMethod.NEAREST_NEIGHBOR,
                 "bicubic": ResizeMethod.BICUBIC, "area": ResizeMethod.AREA}


def _method(method):
    number = _METHOD_NAMES.get(method, method) if isinstance(method, str) else method
    if number == ResizeMethod.BILINEAR:
        return resize_bilinear
    if number == ResizeMethod.NEAREST_NEIGHBOR:
        return resize_nearest_neighbor
    if number in (ResizeMethod.BICUBIC, ResizeMethod.AREA):
        label = "BICUBIC" if number == ResizeMethod.BICUBIC else "AREA"
        raise NotImplementedError(f"resize_images: method ResizeMethod.{label} is not implemented in tfcore; "
                                  "use ResizeMethod.BILINEAR or ResizeMethod.NEAREST_NEIGHBOR")
    raise ValueError(f"Resize method is not implemented: {method}")


def _aspect_size(images, size, static_hw):
    """The largest size within `size` that keeps the image's aspect ratio (TF1's arithmetic, in
    float32, rounding halves to even): a size tensor, and its static value where known."""

    height, width = (static_hw[0], static_hw[1])
    if height is None or width is None:
        shape = array_ops.shape(images)
        height_t, width_t = shape[1], shape[2]
    else:
        height_t, width_t = height, width
    current = [math_ops.cast(height_t, dtypes.float32), math_ops.cast(width_t, dtypes.float32)]
    wanted = math_ops.cast(size, dtypes.float32)
    scale = binary_ops.minimum(wanted[0] / current[0], wanted[1] / current[1])
    new_size = join_ops.stack([math_ops.cast(elementwise_ops.round(scale * dim), dtypes.int32)
                               for dim in current])
    known = partial_shape_value(size)
    static = [None, None]
    if None not in (height, width) and known is not None and None not in known:
        factor = min(np.float32(known[0]) / np.float32(height), np.float32(known[1]) / np.float32(width))
        static = [int(np.round(np.float32(factor) * np.float32(d))) for d in (height, width)]
    return new_size, static


def resize_images(images, size, method=ResizeMethod.BILINEAR, align_corners=False,
                  preserve_aspect_ratio=False, name=None):
    """TF1's `tf.image.resize_images`: resize `images` ([N, H, W, C], or one image [H, W, C]) to
    `size` = [new_height, new_width] with `method` (a `ResizeMethod`, or "bilinear" / "nearest").

    As in TF1: an image already of that size (known at build time) is returned as it is; bilinear
    returns float32, nearest neighbour keeps the dtype; with `preserve_aspect_ratio` the result is the
    largest image that fits in `size` without distortion.
    """
    resizer = _method(method)
    with name_scope(name, "resize", [images, size]):
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        if images.shape.ndims not in (3, 4):
            raise ValueError(f"'images' must have either 3 or 4 dimensions, got shape {images.shape}.")
        is_batch = images.shape.ndims == 4
        if not is_batch:
            images = dimension_ops.expand_dims(images, 0)
        _, height, width, _ = images.shape.as_list()
        try:
            size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if preserve_aspect_ratio:
            size, new_hw = _aspect_size(images, size, (height, width))
        else:
            known = partial_shape_value(size)
            new_hw = known if known is not None else [None, None]
        if None not in (height, width, *new_hw) and [height, width] == list(new_hw):
            return images if is_batch else dimension_ops.squeeze(images, axis=[0])
        resized = resizer(images, size, align_corners=align_corners)
        resized.set_shape([None, new_hw[0], new_hw[1], None])
        return resized if is_batch else dimension_ops.squeeze(resized, axis=[0])


resize = resize_images  # tf.compat.v1.image.resize is resize_images
