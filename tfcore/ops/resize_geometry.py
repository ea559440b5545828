"""The geometry shared by the image resizers of image_ops.py: where each output row or column
reads the input (the row tables, computed on the host in float32 as TF computes them), the
scatter that is the adjoint of gathering rows, and the checks and shapes both resize ops share.

No ops here: image_ops.py's module docstring explains the tables and the formulas.
"""

import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.constant_folding import constant_value, partial_shape_value
from tfcore.framework.graph import apply_op, convert_to_tensor
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops import array_ops

# No public names: the helpers of image_ops.py (nothing here appears as tf.<name> or tf.image.<name>).
__all__ = []


# ================================================================================================
# Geometry shared by both resizers: where each output row or column reads the input
# ================================================================================================


def _scale(in_size, out_size, align_corners):
    """Input pixels per output pixel along one axis (TF's CalculateResizeScale, in float32)."""
    if align_corners and out_size > 1:
        return np.float32(in_size - 1) / np.float32(out_size - 1)
    return np.float32(in_size) / np.float32(out_size)


def _nearest_rows(in_size, out_size, align_corners, half_pixel_centers):
    """For each output position along one axis: the input position it copies (int64 [out_size])."""
    scale = _scale(in_size, out_size, align_corners)
    position = np.arange(out_size, dtype=np.float32)
    if half_pixel_centers:
        position = (position + np.float32(0.5)) * scale  # NOTE: no "- 0.5": the floor below does that
    else:
        position = position * scale
    if align_corners:  # C's roundf: halves go up (positions are never negative here)
        index = np.where(position - np.floor(position) >= 0.5, np.ceil(position), np.floor(position))
    else:
        index = np.floor(position)
    return np.clip(index.astype(np.int64), 0, in_size - 1)


def _bilinear_rows(in_size, out_size, align_corners, half_pixel_centers):
    """For each output position along one axis: (lower input position, upper input position, the
    weight of the upper one) as int64, int64 and float32 arrays [out_size].

    NOTE: with half_pixel_centers the first output centres fall before the first input centre (a
    negative position): lower and upper are then both row 0, and the pixel is copied unchanged.
    """
    scale = _scale(in_size, out_size, align_corners)
    position = np.arange(out_size, dtype=np.float32)
    if half_pixel_centers:
        position = (position + np.float32(0.5)) * scale - np.float32(0.5)
    else:
        position = position * scale
    floor = np.floor(position)
    upper = np.minimum(np.ceil(position), in_size - 1).astype(np.int64)
    lower = np.minimum(np.maximum(floor, 0).astype(np.int64), upper)
    return lower, upper, (position - floor).astype(np.float32)


def _scatter_add(xp, values, index, size, axis):
    """The adjoint of gathering along `axis` with `index` (what `values` came from): an array whose
    slice i along `axis` is the sum of the slices o of `values` with index[o] == i (zero if none).

    Done in rounds: round r adds the r-th source of every target that has one, so that no target
    appears twice in one fancy-indexed `+=` (numpy would keep only one of the additions). Upsampling
    by k takes about k rounds, downsampling one.
    """
    shape = list(values.shape)
    shape[axis] = size
    result = xp.zeros(shape, dtype=values.dtype)
    index = np.asarray(index)
    order = np.argsort(index, kind="stable")
    counts = np.bincount(index, minlength=size)
    starts = np.cumsum(counts) - counts
    lead = (slice(None),) * axis
    for r in range(int(counts.max(initial=0))):
        targets = np.nonzero(counts > r)[0]
        sources = order[starts[targets] + r]
        result[lead + (xp.asarray(targets),)] += values[lead + (xp.asarray(sources),)]
    return result


def _out_size(size):
    """The kernels' (height, width) from the size input (a 2-element int32 array); a size fed at run
    time that is not positive stops the run with InvalidArgumentError, as in TF."""
    height, width = (int(v) for v in size.tolist())
    if height <= 0 or width <= 0:
        raise errors.InvalidArgumentError(None, None, f"output dimensions must be positive, got size "
                                                      f"[{height}, {width}]")
    return height, width


def _check_flags(align_corners, half_pixel_centers):
    if align_corners and half_pixel_centers:
        raise ValueError("If half_pixel_centers is True, align_corners must be False.")
    return {"align_corners": bool(align_corners), "half_pixel_centers": bool(half_pixel_centers)}


def _image_dims(shape, what):
    """A static image shape as [N, H, W, C] (ints or None); ValueError when its rank is not 4."""
    if shape.ndims is None:
        return [None] * 4
    if shape.ndims != 4:
        raise ValueError(f"{what} must be 4-dimensional [batch, height, width, channels], "
                         f"got rank {shape.ndims}")
    return shape.as_list()


def _size_dims(size):
    """The static [height, width] of a size input (None where unknown); ValueError unless it is a
    vector of 2 elements, or when a known entry is not positive."""
    if size.shape.ndims is not None and (size.shape.ndims != 1 or size.shape[0].value not in (None, 2)):
        raise ValueError(f"size must be a 1-D tensor of 2 elements (new_height, new_width), got shape "
                         f"{size.shape}")
    value = constant_value(size)
    if value is not None and np.any(np.asarray(value) <= 0):
        raise ValueError(f"output dimensions must be positive, got size {np.asarray(value).tolist()}")
    known = partial_shape_value(size)
    return known if known is not None and len(known) == 2 else [None, None]


def _resize_shape(inputs, dtype_rule, **attrs):
    images, size = inputs
    n, _, _, c = _image_dims(images.shape, "images")
    height, width = _size_dims(size)
    return [(TensorShape([n, height, width, c]), dtype_rule(images.dtype.base_dtype))]


def _resize_op(op_type, images, size, align_corners, half_pixel_centers, name):
    attrs = _check_flags(align_corners, half_pixel_centers)
    images = convert_to_tensor(images, name="images")
    size = convert_to_tensor(size, dtype=dtypes.int32, name="size")
    return apply_op(op_type, [images, size], attrs, name=name)


def _flags_of(op):
    return {name: op.get_attr(name) for name in ("align_corners", "half_pixel_centers")}


def _spatial_size(image):
    """[height, width] of an NHWC tensor: constants where the static shape knows them, else a slice
    of tf.shape."""
    dims = image.shape.as_list()[1:3] if image.shape.ndims == 4 else [None, None]
    if None not in dims:
        return convert_to_tensor(np.array(dims, dtype=np.int32))
    return array_ops.shape(image)[1:3]
