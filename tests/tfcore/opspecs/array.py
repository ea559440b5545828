"""Op specs for array ops (tfcore/ops/array_ops.py, dimension_ops.py, slicing_ops.py, gather_ops.py,
join_ops.py, pad_ops.py, index_ops.py):
transpose, concat/split, expand_dims/squeeze, slicing (slice, strided_slice, `x[...]`), gather,
tile, pad, range, one_hot, reverse, unique, boolean_mask, shape_n and meshgrid.

Integer arguments (axes, indices, paddings) are Python constants inside the build, or int inputs
(`I`, `Fixed`) where the op must read them at run time.
"""

import numpy as np

from tests.tfcore.opspecs.spec import F, Fixed, I, OpSpec


def _dense(x):
    """`x` through a Mul, so that TensorFlow hands the gradient of a gather/boolean_mask back as a
    dense tensor (its gather gradient is IndexedSlices, which the comparison cannot read)."""
    return x * 1.0


def _one_hot(indices, depth, axis=-1, on=1.0, off=0.0, dtype=np.float32):
    hit = np.expand_dims(indices, -1) == np.arange(depth)
    return np.moveaxis(np.where(hit, on, off).astype(dtype), -1, axis)


def _unique(x):
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [values[order], np.argsort(order)[inverse].astype(np.int32)]


_MASK = np.array([[True, False, True], [False, True, True]])

SPECS = [
    # --- transpose ------------------------------------------------------------------------------
    OpSpec("transpose/default_reverses", lambda tf, x: tf.transpose(x), np.transpose, [F(2, 3, 4)]),
    OpSpec("transpose/matrix", lambda tf, x: tf.transpose(x), np.transpose, [F(3, 2)]),
    OpSpec("transpose/perm", lambda tf, x: tf.transpose(x, [1, 0, 2]), lambda x: x.transpose(1, 0, 2),
           [F(2, 3, 4)]),
    OpSpec("transpose/perm_cycle", lambda tf, x: tf.transpose(x, perm=[2, 0, 1]),
           lambda x: x.transpose(2, 0, 1), [F(2, 3, 4)]),
    # --- concat ---------------------------------------------------------------------------------
    OpSpec("concat/axis0", lambda tf, x, y: tf.concat([x, y], 0), lambda x, y: np.concatenate([x, y], 0),
           [F(2, 3), F(1, 3)]),
    OpSpec("concat/axis1", lambda tf, x, y: tf.concat([x, y], axis=1), lambda x, y: np.concatenate([x, y], 1),
           [F(2, 3), F(2, 2)]),
    OpSpec("concat/axis-1_three", lambda tf, x, y, z: tf.concat([x, y, z], -1),
           lambda x, y, z: np.concatenate([x, y, z], -1), [F(2, 1, 2), F(2, 1, 3), F(2, 1, 1)]),
    OpSpec("concat/single", lambda tf, x: tf.concat([x], 0), lambda x: x, [F(2, 3)]),
    OpSpec("concat/with_constant", lambda tf, x: tf.concat([x, [[1.0, 2.0, 3.0]]], 0),
           lambda x: np.concatenate([x, np.array([[1.0, 2.0, 3.0]], x.dtype)], 0), [F(2, 3)]),
    # --- split ----------------------------------------------------------------------------------
    OpSpec("split/num", lambda tf, x: tf.split(x, 3, axis=1), lambda x: np.split(x, 3, 1), [F(2, 6)]),
    OpSpec("split/num_axis0_default", lambda tf, x: tf.split(x, 2), lambda x: np.split(x, 2), [F(4, 3)]),
    OpSpec("split/sizes_infer", lambda tf, x: tf.split(x, [1, -1, 2], 0), lambda x: np.split(x, [1, 3]),
           [F(5, 2)]),
    OpSpec("split/sizes_axis-1", lambda tf, x: tf.split(x, [1, 3], axis=-1), lambda x: np.split(x, [1], -1),
           [F(2, 4)]),
    OpSpec("split/one_part_unused", lambda tf, x: tf.split(x, [2, 1], 1)[1], lambda x: x[:, 2:], [F(2, 3)]),
    # --- expand_dims / squeeze -----------------------------------------------------------------
    OpSpec("expand_dims/axis0", lambda tf, x: tf.expand_dims(x, 0), lambda x: x[None], [F(2, 3)]),
    OpSpec("expand_dims/axis-1", lambda tf, x: tf.expand_dims(x, -1), lambda x: x[..., None], [F(2, 3)]),
    OpSpec("expand_dims/dim_keyword", lambda tf, x: tf.expand_dims(x, dim=1), lambda x: x[:, None],
           [F(2, 3)]),
    OpSpec("squeeze/all", lambda tf, x: tf.squeeze(x), np.squeeze, [F(1, 3, 1, 2)]),
    OpSpec("squeeze/axis", lambda tf, x: tf.squeeze(x, [2]), lambda x: x[:, :, 0], [F(1, 3, 1)]),
    OpSpec("squeeze/squeeze_dims", lambda tf, x: tf.squeeze(x, squeeze_dims=[-3]), lambda x: x[0],
           [F(1, 3, 1)]),
    # --- slice / strided_slice / __getitem__ -----------------------------------------------------
    OpSpec("slice/basic", lambda tf, x: tf.slice(x, [1, 0], [2, -1]), lambda x: x[1:3, :], [F(4, 3)]),
    OpSpec("slice/3d", lambda tf, x: tf.slice(x, [0, 1, 1], [-1, 1, 2]), lambda x: x[:, 1:2, 1:3],
           [F(2, 3, 4)]),
    OpSpec("strided_slice/explicit", lambda tf, x: tf.strided_slice(x, [0, 1], [-1, 4], [1, 2]),
           lambda x: x[0:-1, 1:4:2], [F(3, 5)]),
    OpSpec("strided_slice/masks", lambda tf, x: tf.strided_slice(x, [1, 0], [0, 2], [-1, 1], begin_mask=1,
                                                                 end_mask=1, shrink_axis_mask=2),
           lambda x: x[::-1, 0], [F(3, 4)]),
    OpSpec("getitem/int", lambda tf, x: x[1], lambda x: x[1], [F(3, 4)]),
    OpSpec("getitem/negative_int", lambda tf, x: x[-1], lambda x: x[-1], [F(3, 4)]),
    OpSpec("getitem/slices_steps", lambda tf, x: x[1:, ::2], lambda x: x[1:, ::2], [F(3, 5)]),
    OpSpec("getitem/negative_steps", lambda tf, x: x[::-1, 3:0:-2], lambda x: x[::-1, 3:0:-2], [F(3, 5)]),
    OpSpec("getitem/ellipsis", lambda tf, x: x[..., 1], lambda x: x[..., 1], [F(2, 3, 4)]),
    OpSpec("getitem/newaxis", lambda tf, x: x[:, tf.newaxis, 1:], lambda x: x[:, None, 1:], [F(2, 3)]),
    OpSpec("getitem/mixed", lambda tf, x: x[1, ..., None, ::-2], lambda x: x[1, ..., None, ::-2],
           [F(2, 3, 4)]),
    OpSpec("getitem/scalar", lambda tf, x: x[1, 2], lambda x: x[1, 2], [F(3, 4)]),
    OpSpec("getitem/clamped", lambda tf, x: x[1:10, -10:2], lambda x: x[1:10, -10:2], [F(3, 4)]),
    OpSpec("getitem/empty", lambda tf, x: x[:, 5:], lambda x: x[:, 5:], [F(3, 4)]),
    OpSpec("getitem/constant_tensor_index", lambda tf, x: x[tf.constant(1), 1:tf.constant(3)],
           lambda x: x[1, 1:3], [F(3, 4)]),
    OpSpec("getitem/of_shape", lambda tf, x: tf.reshape(x, [tf.shape(x)[0], -1]), lambda x: x.reshape(2, -1),
           [F(2, 3, 2)]),
    # --- gather ---------------------------------------------------------------------------------
    OpSpec("gather/axis0_repeats", lambda tf, x: tf.gather(_dense(x), [0, 2, 2, 4]),
           lambda x: x[[0, 2, 2, 4]], [F(5, 3)]),
    OpSpec("gather/indices_2d", lambda tf, x: tf.gather(_dense(x), [[3, 0], [1, 3]]),
           lambda x: x[[[3, 0], [1, 3]]], [F(4, 2)]),
    OpSpec("gather/axis1", lambda tf, x: tf.gather(_dense(x), [[3, 0], [1, 1]], axis=1),
           lambda x: x[:, [[3, 0], [1, 1]]], [F(3, 4)]),
    OpSpec("gather/axis-1_3d", lambda tf, x: tf.gather(_dense(x), [2, 0, 2], axis=-1),
           lambda x: x[..., [2, 0, 2]], [F(2, 2, 3)]),
    OpSpec("gather/scalar_index", lambda tf, x: tf.gather(_dense(x), 2), lambda x: x[2], [F(4, 3)]),
    OpSpec("gather/runtime_indices", lambda tf, x, i: tf.gather(_dense(x), i), lambda x, i: x[i],
           [F(5, 2), I(6, low=0, high=5)]),
    # --- tile -----------------------------------------------------------------------------------
    OpSpec("tile/2d", lambda tf, x: tf.tile(x, [2, 3]), lambda x: np.tile(x, (2, 3)), [F(2, 3)]),
    OpSpec("tile/3d_ones", lambda tf, x: tf.tile(x, [1, 2, 1]), lambda x: np.tile(x, (1, 2, 1)),
           [F(2, 2, 3)]),
    OpSpec("tile/1d", lambda tf, x: tf.tile(x, [4]), lambda x: np.tile(x, 4), [F(3)]),
    # --- pad ------------------------------------------------------------------------------------
    OpSpec("pad/constant", lambda tf, x: tf.pad(x, [[1, 0], [2, 1]]), lambda x: np.pad(x, [[1, 0], [2, 1]]),
           [F(2, 3)]),
    OpSpec("pad/constant_values", lambda tf, x: tf.pad(x, [[0, 2], [1, 1]], constant_values=1.5),
           lambda x: np.pad(x, [[0, 2], [1, 1]], constant_values=1.5), [F(2, 3)]),
    OpSpec("pad/reflect", lambda tf, x: tf.pad(x, [[2, 1], [0, 3]], "REFLECT"),
           lambda x: np.pad(x, [[2, 1], [0, 3]], mode="reflect"), [F(3, 4)]),
    OpSpec("pad/symmetric", lambda tf, x: tf.pad(x, [[3, 1], [2, 4]], mode="SYMMETRIC"),
           lambda x: np.pad(x, [[3, 1], [2, 4]], mode="symmetric"), [F(3, 4)]),
    OpSpec("pad/reflect_nhwc", lambda tf, x: tf.pad(x, [[0, 0], [1, 1], [2, 2], [0, 0]], "reflect"),
           lambda x: np.pad(x, [[0, 0], [1, 1], [2, 2], [0, 0]], mode="reflect"), [F(1, 3, 4, 2)]),
    # --- range ----------------------------------------------------------------------------------
    OpSpec("range/limit", lambda tf: tf.range(5), lambda: np.arange(5, dtype=np.int32), [], grad=False),
    OpSpec("range/start_limit_delta", lambda tf: tf.range(1, 10, 3),
           lambda: np.arange(1, 10, 3, dtype=np.int32), [], grad=False),
    OpSpec("range/negative_delta", lambda tf: tf.range(10, 0, -3),
           lambda: np.arange(10, 0, -3, dtype=np.int32), [], grad=False),
    OpSpec("range/float", lambda tf: tf.range(0.5, 3.3, 0.7),
           lambda: np.float32(0.5) + np.arange(4, dtype=np.float32) * np.float32(0.7), [], grad=False),
    OpSpec("range/mixed_int_float", lambda tf: tf.range(1, 2.5, 0.5),
           lambda: np.arange(1, 2.5, 0.5, dtype=np.float32), [], grad=False),
    OpSpec("range/dtype_with_input", lambda tf, x: x * tf.range(3, dtype=x.dtype), lambda x: x * np.arange(3),
           [F(2, 3)]),
    OpSpec("range/of_dynamic_size", lambda tf, x: tf.range(tf.shape(x)[0]),
           lambda x: np.arange(x.shape[0], dtype=np.int32), [F(4, 2)], grad=False),
    # --- one_hot --------------------------------------------------------------------------------
    OpSpec("one_hot/default", lambda tf, i: tf.one_hot(i, 4), lambda i: _one_hot(i, 4),
           [I(6, low=-1, high=5)], grad=False),
    OpSpec("one_hot/axis0_on_off", lambda tf, i: tf.one_hot(i, 3, on_value=2.0, off_value=-1.0, axis=0),
           lambda i: _one_hot(i, 3, axis=0, on=2.0, off=-1.0), [I(2, 2, low=0, high=3)], grad=False),
    OpSpec("one_hot/int_on_value", lambda tf: tf.one_hot([1, 0, 2], 3, on_value=5),
           lambda: _one_hot(np.array([1, 0, 2]), 3, on=5, off=0, dtype=np.int32), [], grad=False),
    OpSpec("one_hot/times_input", lambda tf, x: tf.one_hot([2, 0], 3, dtype=x.dtype) * x,
           lambda x: _one_hot(np.array([2, 0]), 3, dtype=x.dtype) * x, [F(2, 3)]),
    # --- reverse --------------------------------------------------------------------------------
    OpSpec("reverse/two_axes", lambda tf, x: tf.reverse(x, [0, 2]), lambda x: x[::-1, :, ::-1], [F(2, 3, 4)]),
    OpSpec("reverse_v2/axis-1", lambda tf, x: tf.reverse_v2(x, [-1]), lambda x: x[..., ::-1], [F(2, 3)]),
    # --- unique, boolean_mask, shape_n, meshgrid ----------------------------------------------------
    OpSpec("unique/first_appearance", lambda tf, x: list(tf.unique(x)), _unique,
           [Fixed(np.array([4, 1, 4, 2, 1, 7], np.int32))], grad=False),
    OpSpec("unique/floats", lambda tf, x: list(tf.unique(x)), _unique,
           [Fixed(np.array([0.5, -1.0, 0.5, 3.0]))], grad=False),
    OpSpec("boolean_mask/1d_mask", lambda tf, x: tf.boolean_mask(_dense(x), [True, False, True, True]),
           lambda x: x[[True, False, True, True]], [F(4, 3)]),
    OpSpec("boolean_mask/2d_mask", lambda tf, x, m: tf.boolean_mask(_dense(x), m), lambda x, m: x[m],
           [F(2, 3, 2), Fixed(_MASK)]),
    OpSpec("boolean_mask/axis1", lambda tf, x: tf.boolean_mask(_dense(x), [False, True, True], axis=1),
           lambda x: x[:, [False, True, True]], [F(2, 3)]),
    OpSpec("shape_n", lambda tf, x, y: tf.shape_n([x, y]),
           lambda x, y: [np.array(x.shape, np.int32), np.array(y.shape, np.int32)], [F(2, 3), F(4)],
           grad=False),
    OpSpec("meshgrid/xy", lambda tf, x, y: tf.meshgrid(x, y), lambda x, y: np.meshgrid(x, y), [F(3), F(2)]),
    OpSpec("meshgrid/ij_three", lambda tf, x, y, z: tf.meshgrid(x, y, z, indexing="ij"),
           lambda x, y, z: np.meshgrid(x, y, z, indexing="ij"), [F(2), F(3), F(2)]),
]
