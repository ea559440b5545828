"""Array-op behaviours the op-spec table cannot express.

Static shapes with unknown (None) dimensions, op names, build-time errors, the forms of `x[...]`,
dtype rules, run-time errors, and gradients through shapes known only at run time. Each table is
run on every engine (tfcore, and TensorFlow where it is installed), so the expected values written
here are TensorFlow's own.
"""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, numerical_gradient, reference_tf, run_in_graph


def _shape(t):
    s = t.get_shape()
    return None if s.ndims is None else s.as_list()


def _shapes(out):
    return [_shape(t) for t in out] if isinstance(out, list | tuple) else _shape(out)


# ------------------------------------------------------------------------------------------------
# Static shapes, with None dimensions and unknown ranks
# ------------------------------------------------------------------------------------------------

def _inputs(tf):
    """x: [None, 3, 4]; u: unknown rank; v: [2, 3, 4]; i: int32 [None]."""
    return (tf.placeholder(tf.float32, [None, 3, 4]), tf.placeholder(tf.float32),
            tf.placeholder(tf.float32, [2, 3, 4]), tf.placeholder(tf.int32, [None]))


def _lenet_flatten(tf, x, u, v, i):
    """LeNet-5's input reshape, and its flatten layer sized from the static shape of a pooled map."""
    images = tf.reshape(tf.placeholder(tf.float32, [None, 784]), [-1, 28, 28, 1])
    pool = images[:, ::2, ::2, :]  # (stands in for a 2x2 max-pool: [None, 14, 14, 1])
    shape = pool.get_shape().as_list()
    return [images, tf.reshape(pool, [-1, shape[1] * shape[2] * shape[3]])]


SHAPES = [
    ("reshape/lenet", _lenet_flatten, [[None, 28, 28, 1], [None, 196]]),
    ("reshape/shape_entry_of_none", lambda tf, x, u, v, i: tf.reshape(x, [tf.shape(x)[0], -1]), [None, None]),
    ("reshape/shape_entry_known", lambda tf, x, u, v, i: tf.reshape(v, [tf.shape(v)[0], -1]), [2, 12]),
    ("reshape/shape_of_other", lambda tf, x, u, v, i: tf.reshape(x, tf.shape(x)), [None, 3, 4]),
    ("reshape/one_unknown_entry_inferred", lambda tf, x, u, v, i: tf.reshape(v, tf.shape(x)), [2, 3, 4]),
    ("reshape/unknown_and_minus_one", lambda tf, x, u, v, i: tf.reshape(v, [tf.shape(x)[0], -1]),
     [None, None]),
    ("reshape/unknown_length_shape", lambda tf, x, u, v, i: tf.reshape(v, tf.placeholder(tf.int32, [None])),
     None),
    ("fill/dynamic", lambda tf, x, u, v, i: tf.fill([tf.shape(x)[0], 2], 1.0), [None, 2]),
    ("reshape/concat_of_shapes", lambda tf, x, u, v, i: tf.reshape(v, tf.concat([[-1], tf.shape(x)[1:]], 0)),
     [2, 3, 4]),
    ("zeros/dynamic_batch", lambda tf, x, u, v, i: tf.zeros([tf.shape(x)[0], 10]), [None, 10]),
    # constant folding (tfcore/framework/constant_folding.py) serves every shape function alike
    ("zeros/unknown_scalar_entry", lambda tf, x, u, v, i: tf.zeros(tf.stack([tf.placeholder(tf.int32), 3])),
     [None, 3]),
    ("ones/cast_of_stacked_entries",
     lambda tf, x, u, v, i: tf.ones(tf.cast(tf.stack([tf.shape(x)[2], 2]), tf.int32)), [4, 2]),
    ("random_normal/concat_of_shapes",
     lambda tf, x, u, v, i: tf.random_normal(tf.concat([tf.shape(x)[:1], [5]], 0)), [None, 5]),
    ("conv2d_transpose/concat_output_shape",
     lambda tf, x, u, v, i: tf.nn.conv2d_transpose(tf.reshape(x, [-1, 3, 4, 1]), tf.zeros([3, 3, 2, 1]),
                                                   tf.concat([tf.shape(x)[:1], [6, 8, 2]], 0), [1, 2, 2, 1],
                                                   "SAME"), [None, 6, 8, 2]),
    ("transpose/reverse_none", lambda tf, x, u, v, i: tf.transpose(x), [4, 3, None]),
    ("transpose/perm", lambda tf, x, u, v, i: tf.transpose(x, [1, 0, 2]), [3, None, 4]),
    ("transpose/unknown_rank", lambda tf, x, u, v, i: tf.transpose(u), None),
    ("transpose/unknown_rank_perm", lambda tf, x, u, v, i: tf.transpose(u, [1, 0]), [None, None]),
    ("concat/along_none", lambda tf, x, u, v, i: tf.concat([x, v], 0), [None, 3, 4]),
    ("concat/axis-1", lambda tf, x, u, v, i: tf.concat([x, x], -1), [None, 3, 8]),
    ("concat/with_unknown_rank", lambda tf, x, u, v, i: tf.concat([u, x], 1), [None, None, 4]),
    ("concat/all_unknown_rank", lambda tf, x, u, v, i: tf.concat([u, u], 0), None),
    ("split/num", lambda tf, x, u, v, i: tf.split(x, 2, 2), [[None, 3, 2]] * 2),
    ("split/along_none", lambda tf, x, u, v, i: tf.split(x, 2), [[None, 3, 4]] * 2),
    ("split/sizes_infer", lambda tf, x, u, v, i: tf.split(x, [1, -1, 1], 2),
     [[None, 3, 1], [None, 3, 2], [None, 3, 1]]),
    ("split/unknown_rank", lambda tf, x, u, v, i: tf.split(u, 2), [None, None]),
    ("expand_dims/-1", lambda tf, x, u, v, i: tf.expand_dims(x, -1), [None, 3, 4, 1]),
    ("expand_dims/unknown_rank", lambda tf, x, u, v, i: tf.expand_dims(u, 0), None),
    ("squeeze/all_with_none", lambda tf, x, u, v, i: tf.squeeze(tf.expand_dims(x, 1)), None),
    ("squeeze/all_known", lambda tf, x, u, v, i: tf.squeeze(v[:1, :, None]), [3, 4]),
    ("squeeze/axis_with_none", lambda tf, x, u, v, i: tf.squeeze(x[:, :1], [1]), [None, 4]),
    ("slice/none", lambda tf, x, u, v, i: tf.slice(x, [1, 1, 0], [-1, -1, 2]), [None, 2, 2]),
    ("slice/unknown_rank", lambda tf, x, u, v, i: tf.slice(u, [0, 1], [2, -1]), [2, None]),
    ("getitem/head_of_none", lambda tf, x, u, v, i: x[:1], [None, 3, 4]),
    ("getitem/int", lambda tf, x, u, v, i: x[0], [3, 4]),
    ("getitem/ellipsis_int", lambda tf, x, u, v, i: x[..., 0], [None, 3]),
    ("getitem/newaxis_first", lambda tf, x, u, v, i: x[None], [1, None, 3, 4]),
    ("getitem/newaxes_around_ellipsis", lambda tf, x, u, v, i: x[:, None, ..., None], [None, 1, 3, 4, 1]),
    ("getitem/negative_step", lambda tf, x, u, v, i: x[1:3, ..., ::-2], [None, 3, 2]),
    ("getitem/past_the_end", lambda tf, x, u, v, i: x[:, 5:], [None, 0, 4]),
    ("getitem/unknown_rank", lambda tf, x, u, v, i: u[0], None),
    ("getitem/shape_entry", lambda tf, x, u, v, i: [tf.shape(x)[0], tf.shape(x)[1:]], [[], [2]]),
    ("strided_slice/explicit", lambda tf, x, u, v, i: tf.strided_slice(x, [0, 1], [-1, 3], [1, 2]),
     [None, 1, 4]),
    ("gather/axis1", lambda tf, x, u, v, i: tf.gather(x, [[0, 1]], axis=1), [None, 1, 2, 4]),
    ("gather/runtime_indices", lambda tf, x, u, v, i: tf.gather(x, i), [None, 3, 4]),
    ("gather/unknown_rank", lambda tf, x, u, v, i: tf.gather(u, [1, 2]), None),
    ("tile/none", lambda tf, x, u, v, i: tf.tile(x, [2, 1, 0]), [None, 3, 0]),
    ("tile/unknown_rank", lambda tf, x, u, v, i: tf.tile(u, [2, 2]), [None, None]),
    ("pad/none", lambda tf, x, u, v, i: tf.pad(x, [[1, 1], [0, 0], [2, 2]]), [None, 3, 8]),
    ("pad/reflect_none", lambda tf, x, u, v, i: tf.pad(x, [[1, 1], [0, 0], [2, 2]], "REFLECT"), [None, 3, 8]),
    ("pad/unknown_rank", lambda tf, x, u, v, i: tf.pad(u, [[1, 1], [2, 2]]), [None, None]),
    ("range/dynamic", lambda tf, x, u, v, i: tf.range(tf.shape(x)[0]), [None]),
    ("range/shape_entry_known", lambda tf, x, u, v, i: tf.range(tf.shape(v)[0]), [2]),
    ("one_hot/none", lambda tf, x, u, v, i: tf.one_hot(i, 10), [None, 10]),
    ("one_hot/axis0", lambda tf, x, u, v, i: tf.one_hot(i, 10, axis=0), [10, None]),
    ("reverse/none", lambda tf, x, u, v, i: tf.reverse(x, [0]), [None, 3, 4]),
    ("unique/none", lambda tf, x, u, v, i: list(tf.unique(i)), [[None], [None]]),
    ("boolean_mask/axis1", lambda tf, x, u, v, i: tf.boolean_mask(x, [True, False, True], axis=1),
     [None, None, 4]),
    ("shape_n", lambda tf, x, u, v, i: tf.shape_n([x, u]), [[3], [None]]),
    ("meshgrid/xy", lambda tf, x, u, v, i: tf.meshgrid([1, 2], [3, 4, 5]), [[3, 2], [3, 2]]),
    ("meshgrid/dynamic", lambda tf, x, u, v, i: tf.meshgrid(i, [1, 2, 3], indexing="ij"), [[None, 3]] * 2),
]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", SHAPES, ids=[c[0] for c in SHAPES])
def test_static_shapes(engine_name, case):
    name, build, expected = case
    tf = engine(engine_name)
    got = run_in_graph(tf, lambda tf: _shapes(build(tf, *_inputs(tf))))
    assert got == expected


# ------------------------------------------------------------------------------------------------
# Names
# ------------------------------------------------------------------------------------------------

def _names_program(tf):
    x = tf.placeholder(tf.float32, [2, 3], name="x")
    i = tf.constant([1, 0])
    out = [tf.transpose(x), tf.transpose(x, name="t"), tf.concat([x, x], 0), tf.concat([x], 0),
           *tf.split(x, 3, 1), *tf.split(x, [1, 2], 1), tf.expand_dims(x, 0), tf.squeeze(x[None]),
           tf.slice(x, [0, 0], [1, 1]), tf.strided_slice(x, [0], [1]), x[0], x[:, ::2], tf.gather(x, i),
           tf.tile(x, [1, 2]), tf.pad(x, [[1, 1], [0, 0]]), tf.pad(x, [[1, 1], [0, 0]], constant_values=1.0),
           tf.pad(x, [[1, 1], [0, 0]], "SYMMETRIC"), tf.range(3), tf.range(1.0, 2.0, 0.5), tf.one_hot(i, 3),
           tf.reverse(x, [1]), *tf.unique(i), tf.boolean_mask(x, [True, False]), *tf.shape_n([x, x]),
           *tf.meshgrid(i, i)]
    with tf.name_scope("layer"):
        out += [x[1], tf.concat([x, x], 1), tf.range(2)]
    return [t.name for t in out]


NAMES = ["transpose:0", "t:0", "concat:0", "concat_1/concat:0", "split:0", "split:1", "split:2", "split_1:0",
         "split_1:1", "ExpandDims:0", "Squeeze:0", "Slice:0", "StridedSlice:0", "strided_slice_1:0",
         "strided_slice_2:0", "GatherV2:0", "Tile:0", "Pad:0", "PadV2:0", "MirrorPad:0", "range:0",
         "range_1:0", "one_hot:0", "ReverseV2:0", "Unique:0", "Unique:1", "boolean_mask/GatherV2:0",
         "ShapeN:0", "ShapeN:1", "meshgrid/mul:0", "meshgrid/mul_1:0", "layer/strided_slice:0",
         "layer/concat:0", "layer/range:0"]


@pytest.mark.parametrize("engine_name", engines())
def test_op_names_match_tensorflow(engine_name):
    assert run_in_graph(engine(engine_name), _names_program) == NAMES


def test_op_types():
    def program(tf):
        x = tf.placeholder(tf.float32, [2, 3])
        return [t.op.type for t in (tf.transpose(x), tf.concat([x, x], 0), tf.split(x, 3, 1)[0],
                                    tf.split(x, [1, 2], 1)[0], x[0], tf.gather(x, [0]), tf.range(3),
                                    tf.one_hot([0], 2), tf.pad(x, [[0, 1], [0, 0]], "REFLECT"))]
    assert run_in_graph(tfcore, program) == ["Transpose", "ConcatV2", "Split", "SplitV", "StridedSlice",
                                             "GatherV2", "Range", "OneHot", "MirrorPad"]


# ------------------------------------------------------------------------------------------------
# Build-time errors: a ValueError (TypeError for wrong kinds of argument) naming the op
# ------------------------------------------------------------------------------------------------

def _x(tf):
    return tf.placeholder(tf.float32, [2, 3], name="x")


# (name, build, error class, fragments of tfcore's message, whether TensorFlow also raises while building)
ERRORS = [
    ("concat/dims", lambda tf: tf.concat([_x(tf), tf.ones([2, 4])], 0), ValueError,
     ["'concat'", "ConcatV2", "3 and 4"], True),
    ("concat/axis", lambda tf: tf.concat([_x(tf), _x(tf)], 2), ValueError, ["ConcatV2"], True),
    ("concat/rank", lambda tf: tf.concat([_x(tf), tf.ones([2])], 0), ValueError, ["ConcatV2", "rank"], True),
    ("concat/dtypes", lambda tf: tf.concat([_x(tf), tf.ones([2, 3], tf.int32)], 0), TypeError,
     ["float32", "int32"], True),
    ("transpose/perm_range", lambda tf: tf.transpose(_x(tf), [0, 2]), ValueError,
     ["'transpose'", "Transpose"], True),
    ("split/uneven", lambda tf: tf.split(_x(tf), 2, 1), ValueError, ["'split'", "(op: 'Split')", "divisible"],
     True),
    ("split/sizes_sum", lambda tf: tf.split(_x(tf), [1, 1], 1), ValueError, ["SplitV", "[1, 1]"], True),
    ("split/two_unknown", lambda tf: tf.split(_x(tf), [-1, -1], 1), ValueError, ["SplitV", "one -1"], True),
    ("expand_dims/axis", lambda tf: tf.expand_dims(_x(tf), 3), ValueError, ["ExpandDims", "[-3, 2]"], True),
    ("squeeze/not_one", lambda tf: tf.squeeze(_x(tf), [1]), ValueError, ["Squeeze", "got 3"], True),
    ("squeeze/axis", lambda tf: tf.squeeze(_x(tf), [2]), ValueError, ["Squeeze"], True),
    ("slice/rank", lambda tf: tf.slice(_x(tf), [0], [1]), ValueError, ["'Slice'"], True),
    ("slice/too_big", lambda tf: tf.slice(_x(tf), [0, 2], [1, 2]), ValueError, ["'Slice'", "size[1]"], False),
    ("getitem/out_of_bounds", lambda tf: _x(tf)[5], ValueError, ["'strided_slice'", "StridedSlice",
                                                                  "index 5 of dimension 0"], True),
    ("getitem/too_many", lambda tf: _x(tf)[1, 2, 3], ValueError, ["StridedSlice", "only 2 dims"], True),
    ("getitem/zero_step", lambda tf: _x(tf)[::0], ValueError, ["StridedSlice", "non-zero"], True),
    ("getitem/float", lambda tf: _x(tf)[1.5], TypeError, ["valid indices"], True),
    ("gather/axis", lambda tf: tf.gather(_x(tf), [0], axis=2), ValueError, ["GatherV2"], True),
    ("gather/float_indices", lambda tf: tf.gather(_x(tf), [0.5]), TypeError, ["indices"], True),
    ("tile/length", lambda tf: tf.tile(_x(tf), [1, 2, 3]), ValueError, ["'Tile'"], True),
    ("pad/shape", lambda tf: tf.pad(_x(tf), [[1, 1]]), ValueError, ["'Pad'", "[2, 2]"], True),
    ("pad/negative", lambda tf: tf.pad(_x(tf), [[-1, 1], [0, 0]]), ValueError, ["'Pad'", "non-negative"],
     True),
    ("pad/mode", lambda tf: tf.pad(_x(tf), [[1, 1], [0, 0]], "FOO"), ValueError, ["mode"], True),
    ("pad/reflect_too_wide", lambda tf: tf.pad(_x(tf), [[2, 2], [0, 0]], "REFLECT"), ValueError,
     ["MirrorPad", "at most 1"], False),
    ("reshape/size", lambda tf: tf.reshape(_x(tf), [5, -1]), ValueError, ["Reshape"], True),
    ("unique/rank", lambda tf: tf.unique(_x(tf)), ValueError, ["Unique", "rank 1"], True),
    ("range/zero_delta", lambda tf: tf.range(5, 1, 0), ValueError, ["'range'", "Range", "delta != 0"], True),
    ("range/backwards", lambda tf: tf.range(5, 1), ValueError, ["Range", "start <= limit"], True),
    ("reverse/axis", lambda tf: tf.reverse(_x(tf), [2]), ValueError, ["ReverseV2"], True),
    ("one_hot/axis", lambda tf: tf.one_hot([1, 2], 3, axis=3), ValueError, ["OneHot"], False),
]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_build_errors(engine_name, case):
    name, build, error, fragments, tf_raises = case
    tf = engine(engine_name)
    if engine_name == "tensorflow" and not tf_raises:
        pytest.skip("TensorFlow only finds this error when the graph runs")
    with pytest.raises(error) as info:
        run_in_graph(tf, build)
    if engine_name == "tfcore":
        for fragment in fragments:
            assert fragment in str(info.value), f"{fragment!r} not in: {info.value}"


def test_arguments_must_be_known_when_building():
    def program(tf):
        x = tf.placeholder(tf.float32, [2, 3])
        perm = tf.placeholder(tf.int32, [2], name="perm")
        tf.transpose(x, perm)
    with pytest.raises(ValueError, match="transpose's perm known when the graph is built.*'perm:0'"):
        run_in_graph(tfcore, program)

    def dynamic_index(tf):
        x = tf.placeholder(tf.float32, [2, 3])
        return x[tf.placeholder(tf.int32, [], name="i")]
    with pytest.raises(ValueError, match="known when the graph is built.*'i:0'"):
        run_in_graph(tfcore, dynamic_index)


# ------------------------------------------------------------------------------------------------
# The forms of x[...], on tensors and variables
# ------------------------------------------------------------------------------------------------

_ARRAY = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
INDEXES = [1, -1, (1, 2), (1, 2, 3), slice(None), slice(1, None), slice(None, None, -1), slice(None, None, 2),
           (slice(None), slice(2, 0, -1)), (Ellipsis, 1), (Ellipsis, slice(None, None, -2)), (None,),
           (slice(None), None, 1), (1, Ellipsis, None), (None, Ellipsis, None), (slice(-10, 10), -2),
           (0, slice(5, None)), (slice(None), slice(None, None, -1), slice(3, None, -3))]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_getitem_forms(engine_name, index):
    def program(tf):
        t = tf.constant(_ARRAY)
        out = t[index]
        with tf.Session() as sess:
            return _shape(out), sess.run(out)
    static, value = run_in_graph(engine(engine_name), program)
    np.testing.assert_array_equal(value, _ARRAY[index])
    assert static == list(_ARRAY[index].shape)


@pytest.mark.parametrize("engine_name", engines())
def test_getitem_with_constant_tensors_and_newaxis(engine_name):
    def program(tf):
        t = tf.constant(_ARRAY)
        out = [t[tf.constant(1)], t[:, tf.constant(1):3], t[..., tf.newaxis], t[[1, 2]]]
        with tf.Session() as sess:
            return sess.run(out)
    one, two, three, four = run_in_graph(engine(engine_name), program)
    np.testing.assert_array_equal(one, _ARRAY[1])
    np.testing.assert_array_equal(two, _ARRAY[:, 1:3])
    np.testing.assert_array_equal(three, _ARRAY[..., None])
    np.testing.assert_array_equal(four, _ARRAY[1, 2])  # NOTE: TF reads a list index like a tuple


@pytest.mark.parametrize("engine_name", engines())
def test_slicing_a_variable_reads_its_current_value(engine_name):
    def program(tf):
        v = tf.Variable(_ARRAY[0])
        row, block = v[1], v[:, 1:3]
        update = v.assign(v * 2.0)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run([row, block])
            sess.run(update)
            return before, sess.run([row, block]), _shape(row)
    before, after, static = run_in_graph(engine(engine_name), program)
    np.testing.assert_array_equal(before[0], _ARRAY[0, 1])
    np.testing.assert_array_equal(after[1], 2 * _ARRAY[0][:, 1:3])
    assert static == [4]


# ------------------------------------------------------------------------------------------------
# Dtype rules and return types
# ------------------------------------------------------------------------------------------------

def _dtype_program(tf):
    out = [tf.range(5), tf.range(1.0, 5), tf.range(1, 5, 0.5), tf.range(tf.constant(3, tf.int64)),
           tf.range(3, dtype=tf.float64), tf.range(tf.constant(2.0, tf.float64), 4),
           tf.one_hot([1], 3), tf.one_hot([1], 3, on_value=5),
           tf.one_hot([1], 3, off_value=2.0, dtype=tf.float64),
           tf.one_hot(tf.constant([1], tf.int64), 3, dtype=tf.int32), tf.unique([1, 2]).idx,
           tf.unique([1, 2], out_idx=tf.int64).idx, tf.shape_n([tf.ones([2])], out_type=tf.int64)[0],
           tf.concat([tf.ones([1], tf.int32), [2]], 0), tf.gather([1.5, 2.5], [1])]
    return [t.dtype.name for t in out]


@pytest.mark.parametrize("engine_name", engines())
def test_dtype_rules(engine_name):
    assert run_in_graph(engine(engine_name), _dtype_program) == [
        "int32", "float32", "float32", "int64", "float64", "float64", "float32", "int32", "float64", "int32",
        "int32", "int64", "int64", "int32", "float32"]


@pytest.mark.parametrize("engine_name", engines())
def test_return_types(engine_name):
    def program(tf):
        x = tf.ones([4, 2])
        unique = tf.unique([3, 1, 3])
        with tf.Session() as sess:
            y, idx = sess.run(unique)
            return (type(tf.split(x, 2)).__name__, type(tf.split(x, 1)).__name__, len(tf.split(x, [1, 3])),
                    unique._fields, y.tolist(), idx.tolist(), sess.run(unique.y).tolist())
    assert run_in_graph(engine(engine_name), program) == (
        "list", "list", 2, ("y", "idx"), [3, 1], [0, 1, 0], [3, 1])


# ------------------------------------------------------------------------------------------------
# Run-time checks that only the data can trip
# ------------------------------------------------------------------------------------------------

RUNTIME_ERRORS = [
    ("gather/index_too_big", lambda tf, x: tf.gather(x, [0, 7]), "not in [0, 4)"),
    ("gather/negative_index", lambda tf, x: tf.gather(x, [-1]), "not in [0, 4)"),
    ("slice/beyond_a_none_dim", lambda tf, x: tf.slice(x, [2, 0], [3, -1]), "size[0]"),
    ("split/sizes_vs_none_dim", lambda tf, x: tf.split(x, [1, 2])[0], "can't split"),
    ("getitem/index_past_none_dim", lambda tf, x: x[6], "index"),
]


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("case", RUNTIME_ERRORS, ids=[c[0] for c in RUNTIME_ERRORS])
def test_runtime_errors(engine_name, case):
    name, build, fragment = case
    tf = engine(engine_name)

    def program(tf):
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        out = build(tf, x)
        with tf.Session() as sess:
            sess.run(out, {x: np.zeros([4, 3])})
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        run_in_graph(tf, program)
    if engine_name == "tfcore":
        assert fragment in str(info.value)


def test_kernels_leave_read_only_inputs_alone():
    """Constants are read-only arrays: a kernel (or gradient kernel) writing into its input fails."""
    def program(tf):
        x = tf.constant(np.arange(12.0).reshape(3, 4))
        outs = [tf.transpose(x), tf.concat([x, x], 1), tf.split(x, [1, 3], 1)[1], x[::-1, 1:],
                tf.slice(x, [1, 1], [1, 2]), tf.gather(x, [2, 2, 0]), tf.tile(x, [2, 1]),
                tf.pad(x, [[1, 2], [2, 1]], "REFLECT"), tf.pad(x, [[1, 0], [0, 1]], constant_values=3.0),
                tf.reverse(x, [0]), tf.expand_dims(x, 0),
                tf.reshape(tf.boolean_mask(x, [True, False, True]), [8])]
        seeds = [tf.constant(np.arange(o.get_shape().num_elements(), dtype=np.float64).reshape(
            o.get_shape().as_list())) for o in outs]
        grads = tf.gradients(outs, x, grad_ys=seeds)
        with tf.Session() as sess:
            return sess.run(grads[0])
    ours = run_in_graph(tfcore, program)
    tf = reference_tf()
    if tf is not None:
        np.testing.assert_allclose(ours, run_in_graph(tf, program))


# ------------------------------------------------------------------------------------------------
# Gradients through shapes known only at run time, and gradients of gradients
# ------------------------------------------------------------------------------------------------

DYNAMIC = [
    ("concat", lambda tf, x: tf.concat([x, 2.0 * x, x[1:]], 0)),
    ("split_sizes", lambda tf, x: tf.split(x, [1, -1], 0)[1] * 3.0),
    ("split_num", lambda tf, x: tf.split(x, 2, 0)[0]),
    ("slice", lambda tf, x: tf.slice(x, [1, 0], [-1, 2])),
    ("strided", lambda tf, x: x[::-2, None, 1:]),
    ("gather", lambda tf, x: tf.gather(x * 1.0, [3, 0, 3])),
    ("gather_axis1", lambda tf, x: tf.gather(x, [[2, 2]], axis=1)),
    ("tile", lambda tf, x: tf.tile(x, [2, 3])),
    ("pad", lambda tf, x: tf.pad(x, [[1, 2], [0, 1]], constant_values=2.0)),
    ("mirror_pad", lambda tf, x: tf.pad(x, [[2, 1], [1, 2]], "SYMMETRIC")),
    ("transpose_expand_squeeze", lambda tf, x: tf.squeeze(tf.expand_dims(tf.transpose(x), 1), [1])),
    ("reverse", lambda tf, x: tf.reverse(x, [0, 1])),
    ("boolean_mask", lambda tf, x: tf.boolean_mask(x * 1.0, [True, False, True, True])),
]

_X = np.random.default_rng(7).standard_normal((4, 3))


def _dynamic_program(tf, build, shape):
    x = tf.placeholder(tf.float64, shape)
    y = build(tf, x)
    loss = tf.reduce_sum(y * y * tf.constant(0.5, tf.float64) + y)
    grad = tf.gradients(loss, x)[0]
    with tf.Session() as sess:
        return sess.run(grad, {x: _X})


@pytest.mark.parametrize("case", DYNAMIC, ids=[c[0] for c in DYNAMIC])
def test_gradients_with_unknown_dimensions(case):
    _, build = case
    known = run_in_graph(tfcore, _dynamic_program, build, [4, 3])
    unknown = run_in_graph(tfcore, _dynamic_program, build, [None, None])
    np.testing.assert_allclose(unknown, known, rtol=1e-12)
    tf = reference_tf()
    if tf is not None:
        theirs = run_in_graph(tf, _dynamic_program, build, [None, None])
        np.testing.assert_allclose(unknown, theirs, rtol=1e-10)


SECOND_ORDER = [c for c in DYNAMIC if c[0] in ("concat", "strided", "gather", "gather_axis1", "tile",
                                                  "mirror_pad", "boolean_mask", "slice")]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_gradients_of_gradients(case):
    """The gradient ops (StridedSliceGrad, TileGrad, MirrorPadGrad, ...) can be differentiated again:
    d/dx sum(w * dL/dx) against central differences of sum(w * dL/dx)."""
    _, build = case
    w = np.random.default_rng(3).uniform(0.5, 1.5, _X.shape)

    def program(tf):
        x = tf.placeholder(tf.float64, [None, 3])
        y = build(tf, x)
        grad = tf.gradients(tf.reduce_sum(y * y * y), x)[0]
        outer = tf.reduce_sum(grad * tf.constant(w))
        second = tf.gradients(outer, x)[0]
        sess = tf.Session()
        symbolic = sess.run(second, {x: _X})
        numeric = numerical_gradient(lambda arrays: sess.run(outer, {x: arrays[0]}), [_X.copy()], 0)
        sess.close()
        return symbolic, numeric
    symbolic, numeric = run_in_graph(tfcore, program)
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("engine_name", engines())
def test_stop_gradient_blocks_the_gradient(engine_name):
    def program(tf):
        x = tf.constant([1.0, 2.0, 3.0])
        y = x * tf.stop_gradient(x * x)
        with tf.Session() as sess:
            return sess.run(tf.gradients(y, x)[0]).tolist()
    assert run_in_graph(engine(engine_name), program) == [1.0, 4.0, 9.0]
