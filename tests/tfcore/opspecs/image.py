"""Op specs for the image family: tfcore/ops/image_ops.py (tf.image.resize_*), and the ops the fast
style network of lesson 09 is made of where the other tables do not cover its use (instance
normalisation from tf.nn.moments over the spatial axes, reflection padding of NHWC batches,
conv2d_transpose's upsampling by 2).

The references below are written independently of the kernels: they loop over output pixels and
mix the four neighbours with product weights (the kernels gather whole rows and columns and
interpolate one axis after the other). Where a pixel lands is computed in single precision, as TF's
kernels compute it: otherwise a nearest-neighbour pixel on a rounding edge would differ.

NOTE: TF's ResizeBilinear returns float32 even for float64 images; tfcore keeps float64 (see
tfcore/ops/image_ops.py), so the TensorFlow comparison of the float64 rows holds within float32
precision: the inputs are kept in [1, 2] there, where TF's rounding stays inside the tolerance.
"""

import math

import numpy as np

from tests.tfcore.opspecs.spec import F, Fixed, OpSpec

F32 = np.float32


def _position(out_index, in_size, out_size, align_corners, half_pixel_centers, nearest):
    """Where output pixel `out_index` lands on the input axis (float32 arithmetic, as TF)."""
    if align_corners and out_size > 1:
        scale = F32(in_size - 1) / F32(out_size - 1)
    else:
        scale = F32(in_size) / F32(out_size)
    if not half_pixel_centers:
        return F32(out_index) * scale
    if nearest:
        return (F32(out_index) + F32(0.5)) * scale
    return (F32(out_index) + F32(0.5)) * scale - F32(0.5)


def _nearest_source(out_index, in_size, out_size, align_corners, half_pixel_centers):
    position = float(_position(out_index, in_size, out_size, align_corners, half_pixel_centers, True))
    source = math.floor(position + 0.5) if align_corners else math.floor(position)
    return min(max(source, 0), in_size - 1)


def nearest_ref(x, size, align_corners=False, half_pixel_centers=False):
    """Each output pixel copies the input pixel it lands on."""
    n, h, w, c = x.shape
    out = np.empty((n, size[0], size[1], c), dtype=x.dtype)
    for i in range(size[0]):
        for j in range(size[1]):
            out[:, i, j] = x[:, _nearest_source(i, h, size[0], align_corners, half_pixel_centers),
                             _nearest_source(j, w, size[1], align_corners, half_pixel_centers)]
    return out


def bilinear_ref(x, size, align_corners=False, half_pixel_centers=False):
    """Each output pixel: the four input pixels around where it lands, weighted by the area of the
    opposite rectangle (neighbours beyond the border are the border pixel)."""
    n, h, w, c = x.shape
    image = x.astype(np.float64)
    out = np.zeros((n, size[0], size[1], c))
    for i in range(size[0]):
        py = float(_position(i, h, size[0], align_corners, half_pixel_centers, False))
        y0 = math.floor(py)
        for j in range(size[1]):
            px = float(_position(j, w, size[1], align_corners, half_pixel_centers, False))
            x0 = math.floor(px)
            for r, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
                for s, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
                    out[:, i, j] += wy * wx * image[:, min(max(r, 0), h - 1), min(max(s, 0), w - 1)]
    return out.astype(np.float64 if x.dtype == np.float64 else np.float32)


def _bilinear(name, x_shape, size, align_corners=False, half_pixel_centers=False):
    return OpSpec(
        f"resize_bilinear/{name}",
        lambda tf, x: tf.image.resize_bilinear(x, size, align_corners=align_corners,
                                               half_pixel_centers=half_pixel_centers),
        lambda x: bilinear_ref(x, size, align_corners, half_pixel_centers),
        [F(*x_shape, kind="uniform", low=1.0, high=2.0)])


def _nearest(name, x_shape, size, align_corners=False, half_pixel_centers=False):
    return OpSpec(
        f"resize_nearest_neighbor/{name}",
        lambda tf, x: tf.image.resize_nearest_neighbor(x, size, align_corners=align_corners,
                                                       half_pixel_centers=half_pixel_centers),
        lambda x: nearest_ref(x, size, align_corners, half_pixel_centers),
        [F(*x_shape)])


def instance_norm_ref(x, epsilon=1e-3):
    mean = x.mean(axis=(1, 2), keepdims=True)
    variance = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon)


def _instance_norm(tf, x, epsilon=1e-3):
    mean, variance = tf.nn.moments(x, [1, 2], keep_dims=True)
    return (x - mean) * tf.rsqrt(variance + epsilon)


def _grad_of(tf, loss, x):
    return tf.gradients(loss, x)[0]


_RNG = np.random.default_rng(11)
UINT8_IMAGE = _RNG.integers(0, 256, (1, 3, 4, 3)).astype(np.uint8)
INT32_IMAGE = _RNG.integers(-50, 50, (2, 3, 3, 1)).astype(np.int32)

SPECS = [
    # --- resize_bilinear: the three corner conventions, up and down, odd factors ---
    _bilinear("legacy_up", (1, 3, 4, 2), [5, 7]),
    _bilinear("legacy_down", (1, 5, 6, 1), [3, 4]),
    _bilinear("legacy_x2", (2, 2, 3, 1), [4, 6]),
    _bilinear("align_corners_up", (2, 3, 3, 1), [5, 4], align_corners=True),
    _bilinear("align_corners_down", (1, 6, 5, 1), [4, 3], align_corners=True),
    _bilinear("align_corners_to_1x1", (1, 3, 4, 1), [1, 1], align_corners=True),
    _bilinear("half_pixel_up", (1, 3, 4, 2), [6, 9], half_pixel_centers=True),
    _bilinear("half_pixel_down", (1, 6, 5, 1), [4, 2], half_pixel_centers=True),
    OpSpec("resize_bilinear/size_fed_at_run_time",
           lambda tf, x, size: tf.image.resize_bilinear(x, size),
           lambda x, size: bilinear_ref(x, size.tolist()),
           [F(1, 3, 4, 2, kind="uniform", low=1.0, high=2.0), Fixed(np.array([4, 6], np.int32))]),
    OpSpec("resize_bilinear/uint8_to_float32", lambda tf, x: tf.image.resize_bilinear(x, [5, 6]),
           lambda x: bilinear_ref(x, [5, 6]), [Fixed(UINT8_IMAGE)], grad=False, dtypes=("float32",),
           rtol=1e-6, atol=1e-4),
    # --- resize_nearest_neighbor: the same conventions, including roundings on an edge ---
    _nearest("legacy_up", (1, 3, 4, 2), [5, 7]),
    _nearest("legacy_down", (1, 5, 6, 1), [3, 4]),
    _nearest("legacy_x2", (2, 2, 3, 1), [4, 6]),
    _nearest("align_corners_up", (2, 3, 3, 1), [5, 4], align_corners=True),
    _nearest("align_corners_down", (1, 6, 5, 1), [4, 3], align_corners=True),
    _nearest("align_corners_rounds_halves_up", (1, 3, 3, 1), [5, 5], align_corners=True),
    _nearest("half_pixel_up", (1, 3, 4, 2), [6, 9], half_pixel_centers=True),
    _nearest("half_pixel_down", (1, 6, 5, 1), [4, 2], half_pixel_centers=True),
    OpSpec("resize_nearest_neighbor/int32_keeps_dtype",
           lambda tf, x: tf.image.resize_nearest_neighbor(x, [4, 5]), lambda x: nearest_ref(x, [4, 5]),
           [Fixed(INT32_IMAGE)], grad=False, dtypes=("float32",)),
    # --- resize_images: TF1's front door (method enum or name, 3-D images, same size, aspect ratio) ---
    OpSpec("resize_images/bilinear_default", lambda tf, x: tf.image.resize_images(x, [5, 3]),
           lambda x: bilinear_ref(x, [5, 3]), [F(2, 3, 4, 1, kind="uniform", low=1.0, high=2.0)]),
    OpSpec("resize_images/nearest_3d",
           lambda tf, x: tf.image.resize_images(x, [6, 5], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR),
           lambda x: nearest_ref(x[None], [6, 5])[0], [F(3, 4, 2)]),
    OpSpec("resize_images/nearest_by_name_align_corners",
           lambda tf, x: tf.image.resize_images(x, [5, 7], method="nearest", align_corners=True),
           lambda x: nearest_ref(x, [5, 7], align_corners=True), [F(1, 3, 4, 1)]),
    OpSpec("resize_images/same_size_is_identity", lambda tf, x: tf.image.resize_images(x, [3, 4]) * 2.0,
           lambda x: 2 * x, [F(1, 3, 4, 2)]),
    OpSpec("resize_images/preserve_aspect_ratio",
           lambda tf, x: tf.image.resize_images(x, [6, 9], preserve_aspect_ratio=True),
           lambda x: bilinear_ref(x, [6, 8]), [F(1, 3, 4, 2, kind="uniform", low=1.0, high=2.0)]),
    # --- second derivatives through the gradient ops (TF has none: checked numerically only) ---
    # (ResizeBilinearGrad reads only the image's shape: x is fixed, the check is on g)
    OpSpec("resize_bilinear/grad_of_grad",
           lambda tf, x, g: tf.gradients(tf.image.resize_bilinear(x, [5, 3], half_pixel_centers=True), x,
                                         grad_ys=g)[0],
           None, [Fixed(_RNG.standard_normal((1, 3, 4, 1))), F(1, 5, 3, 1)], tf=False),
    OpSpec("resize_nearest_neighbor/grad_of_grad",
           lambda tf, x: _grad_of(tf, tf.reduce_sum(tf.square(tf.image.resize_nearest_neighbor(x, [5, 7]))),
                                  x),
           None, [F(1, 3, 4, 1)], tf=False),
    # --- what the fast style network builds from other families, in the shapes it uses them ---
    OpSpec("instance_norm/moments_over_height_width", _instance_norm, instance_norm_ref, [F(2, 4, 3, 2)]),
    OpSpec("pad/reflect_nhwc_then_conv",
           lambda tf, x, f: tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT"), f,
                                         [1, 1, 1, 1], "VALID"),
           None, [F(1, 4, 5, 2), F(3, 3, 2, 2)]),
    OpSpec("conv2d_transpose/upsample_x2_even",
           lambda tf, v, f: tf.nn.conv2d_transpose(v, f, [2, 6, 8, 2], [1, 2, 2, 1], "SAME"),
           None, [F(2, 3, 4, 3), F(3, 3, 2, 3)]),
]
