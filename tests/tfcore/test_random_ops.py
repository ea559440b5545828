"""Random ops, seeds and initializers (tfcore/ops/random_ops.py, tfcore/ops/init_ops.py).

The numbers cannot equal TensorFlow's (TF uses the Philox generator), so these tests check what
can be the same: distributions (statistics of 10^5 samples), bounds, shapes, dtypes, op names and
the seed rules (repeatable with seeds, new numbers each run, a new Session starts again). Tests
parametrised over `engines()` run the same program on tfcore and on TensorFlow and expect the same
behaviour of both.
"""

import math

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, run_in_graph

N = 100_000
TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


def _draw(tf, build, runs=1):
    """Build `build(tf)` in a fresh graph and fetch it `runs` times in one session."""
    def program(tf):
        tensor = build(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return [sess.run(tensor) for _ in range(runs)]
    values = run_in_graph(tf, program)
    return values[0] if runs == 1 else values


# ================================================================================================
# Distributions (tfcore; the same checks hold for TF, which is what the statistics encode)
# ================================================================================================


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_normal_mean_and_std(dtype):
    x = _draw(tfcore, lambda tf: tf.random_normal([N], mean=1.5, stddev=2.0, dtype=dtype))
    assert x.dtype == np.dtype(dtype) and x.shape == (N,)
    assert abs(x.mean() - 1.5) < 0.03
    assert abs(x.std() - 2.0) < 0.03
    assert abs(x - 1.5).max() > 6.0  # real tails, not truncated


def test_truncated_normal_stays_within_two_stddev():
    x = _draw(tfcore, lambda tf: tf.truncated_normal([400, 250], mean=-1.0, stddev=0.5))
    assert x.shape == (400, 250) and x.dtype == np.float32
    assert np.all(np.abs(x + 1.0) <= 1.0 + 1e-6)
    assert abs(x.mean() + 1.0) < 0.01
    assert abs(x.std() - 0.5 * TRUNCATED_STD) < 0.01
    assert np.abs(x + 1.0).max() > 0.99  # the whole allowed range is used


def test_random_uniform_floats():
    x = _draw(tfcore, lambda tf: tf.random_uniform([N], minval=-2.0, maxval=3.0))
    assert x.dtype == np.float32
    assert x.min() >= -2.0 and x.max() < 3.0
    assert abs(x.mean() - 0.5) < 0.03
    assert abs(x.var() - 25.0 / 12.0) < 0.05


def test_random_uniform_default_range_is_unit_interval():
    x = _draw(tfcore, lambda tf: tf.random_uniform([N], dtype=tf.float64))
    assert x.dtype == np.float64 and x.min() >= 0.0 and x.max() < 1.0
    assert abs(x.mean() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_random_uniform_integers_cover_the_range(dtype):
    x = _draw(tfcore, lambda tf: tf.random_uniform([N], minval=-3, maxval=4, dtype=dtype))
    assert x.dtype == np.dtype(dtype)
    counts = np.bincount(x - (-3))
    assert len(counts) == 7 and x.min() == -3 and x.max() == 3
    assert np.all(np.abs(counts / N - 1 / 7) < 0.01)


def test_random_shuffle_permutes_rows():
    rows = np.arange(40, dtype=np.float32).reshape(20, 2)
    x = _draw(tfcore, lambda tf: tf.random_shuffle(tf.constant(rows)))
    assert x.shape == rows.shape
    assert sorted(x[:, 0].tolist()) == rows[:, 0].tolist()
    assert np.all(x[:, 1] == x[:, 0] + 1)  # each row moved whole
    assert not np.array_equal(x, rows)  # (probability 1/20! of a false failure)


def test_multinomial_frequencies_follow_softmax():
    probs = np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])
    with np.errstate(divide="ignore"):
        logits = np.log(probs)  # -inf: a class never drawn
    x = _draw(tfcore, lambda tf: tf.multinomial(tf.constant(logits), 20_000))
    assert x.shape == (2, 20_000) and x.dtype == np.int64
    assert np.all(np.abs(np.bincount(x[0], minlength=3) / 20_000 - probs[0]) < 0.015)
    assert np.all(x[1] == 1)


def test_shape_may_be_a_tensor():
    def build(tf):
        x = tf.placeholder(tf.float32, [None, 3])
        sample = tf.random_normal(tf.shape(x))
        return sample.get_shape().as_list(), sample, x
    def program(tf):
        static, sample, x = build(tf)
        with tf.Session() as sess:
            return static, sess.run(sample, {x: np.zeros([5, 3])}).shape
    assert run_in_graph(tfcore, program) == ([None, 3], (5, 3))


# ================================================================================================
# Seeds and sessions: the same behaviour on both engines
# ================================================================================================


@pytest.mark.parametrize("engine_name", engines())
def test_get_seed_rules(engine_name):
    tf = engine(engine_name)

    def program(tf):
        seeds = [tf.get_seed(None), tf.get_seed(7)]
        tf.set_random_seed(5)
        seeds += [tf.get_seed(None), tf.get_seed(None), tf.get_seed(3), tf.get_seed(2**31 + 5)]
        tf.set_random_seed(0)
        seeds += [tf.get_seed(0)]
        return seeds
    assert run_in_graph(tf, program) == [(None, None), (87654321, 7), (5, 0), (5, 1), (5, 3), (5, 6),
                                         (0, 2**31 - 1)]


@pytest.mark.parametrize("engine_name", engines())
def test_each_run_draws_new_numbers_and_a_new_session_starts_again(engine_name):
    tf = engine(engine_name)

    def program(tf):
        tf.set_random_seed(42)
        sample = tf.random_uniform([4])
        with tf.Session() as sess:
            first = [sess.run(sample), sess.run(sample)]
        with tf.Session() as sess:
            second = [sess.run(sample), sess.run(sample)]
        return first, second
    first, second = run_in_graph(tf, program)
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("engine_name", engines())
def test_graph_seed_makes_programs_repeatable(engine_name):
    tf = engine(engine_name)

    def program(tf, seed):
        if seed is not None:
            tf.set_random_seed(seed)
        a = tf.random_normal([3])
        b = tf.random_normal([3])  # a second op gets its own stream
        with tf.Session() as sess:
            return sess.run([a, b])
    first = run_in_graph(tf, program, 1)
    again = run_in_graph(tf, program, 1)
    other = run_in_graph(tf, program, 2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])
    unseeded = [run_in_graph(tf, program, None) for _ in range(2)]
    assert not np.array_equal(unseeded[0][0], unseeded[1][0])


@pytest.mark.parametrize("engine_name", engines())
def test_op_seed_alone_is_repeatable(engine_name):
    tf = engine(engine_name)

    def program(tf, seed):
        tf.constant(0.0)  # other ops before it do not matter
        sample = tf.truncated_normal([5], seed=seed)
        with tf.Session() as sess:
            return sess.run(sample)
    np.testing.assert_array_equal(run_in_graph(tf, program, 3), run_in_graph(tf, program, 3))
    assert not np.array_equal(run_in_graph(tf, program, 3), run_in_graph(tf, program, 4))


@pytest.mark.parametrize("engine_name", engines())
def test_random_op_names_and_static_shapes(engine_name):
    tf = engine(engine_name)

    def program(tf):
        out = [tf.random_normal([2, 3]), tf.truncated_normal([4]), tf.random_uniform([2, 2], 1, 5),
               tf.random_uniform([2], 1, 5, dtype=tf.int32), tf.random_shuffle(tf.ones([3, 2])),
               tf.multinomial(tf.zeros([2, 3]), 4)]
        return [(t.name, t.get_shape().as_list(), t.dtype.name) for t in out]
    assert run_in_graph(tf, program) == [
        ("random_normal:0", [2, 3], "float32"), ("truncated_normal:0", [4], "float32"),
        ("random_uniform:0", [2, 2], "float32"), ("random_uniform_1:0", [2], "int32"),
        ("RandomShuffle:0", [3, 2], "float32"), ("multinomial/Multinomial:0", [2, 4], "int64")]


@pytest.mark.parametrize("engine_name", engines())
def test_integer_uniform_needs_maxval(engine_name):
    tf = engine(engine_name)
    with pytest.raises(ValueError, match="maxval"):
        run_in_graph(tf, lambda tf: tf.random_uniform([2], dtype=tf.int32))


@pytest.mark.parametrize("engine_name", engines())
def test_gradients_reach_mean_and_stddev_not_the_sample(engine_name):
    tf = engine(engine_name)

    def program(tf):
        mean = tf.constant(1.0)
        stddev = tf.constant(2.0)
        sample = tf.random_normal([1000], mean=mean, stddev=stddev, seed=1)
        d_mean, d_stddev = tf.gradients(tf.reduce_sum(sample), [mean, stddev])
        with tf.Session() as sess:
            values, dm, ds = sess.run([sample, d_mean, d_stddev])
        return values, dm, ds
    values, d_mean, d_stddev = run_in_graph(tf, program)
    assert d_mean == 1000.0
    np.testing.assert_allclose(d_stddev, ((values - 1.0) / 2.0).sum(), rtol=1e-4, atol=1e-3)


# ================================================================================================
# Initializers
# ================================================================================================


def _initial(tf, initializer, shape, dtype=None):
    def build(tf):
        return initializer(tf)(shape, dtype=dtype) if dtype is not None else initializer(tf)(shape)
    return _draw(tf, build)


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("name, make", [
    ("zeros", lambda tf: tf.zeros_initializer()),
    ("ones", lambda tf: tf.ones_initializer()),
    ("constant", lambda tf: tf.constant_initializer(0.5)),
    ("random_normal", lambda tf: tf.random_normal_initializer()),
    ("truncated_normal", lambda tf: tf.truncated_normal_initializer()),
    ("random_uniform", lambda tf: tf.random_uniform_initializer()),
    ("glorot_uniform", lambda tf: tf.glorot_uniform_initializer()),
    ("glorot_normal", lambda tf: tf.glorot_normal_initializer()),
    ("variance_scaling", lambda tf: tf.variance_scaling_initializer()),
    ("initializers.he_normal", lambda tf: tf.initializers.he_normal()),
    ("initializers.lecun_uniform", lambda tf: tf.initializers.lecun_uniform()),
])
def test_initializer_shapes_and_dtypes(engine_name, name, make):
    tf = engine(engine_name)
    x32 = _initial(tf, make, [3, 4])
    x64 = _initial(tf, make, [2, 3, 5], dtype=tf.float64)
    assert x32.shape == (3, 4) and x32.dtype == np.float32
    assert x64.shape == (2, 3, 5) and x64.dtype == np.float64
    assert np.all(np.isfinite(x32)) and np.all(np.isfinite(x64))


@pytest.mark.parametrize("engine_name", engines())
def test_constant_initializer_scalars_and_lists(engine_name):
    tf = engine(engine_name)

    def program(tf):
        init = [tf.constant_initializer(3)([2, 2]), tf.constant_initializer([1, 2, 3, 4, 5, 6])([2, 3]),
                tf.constant_initializer([1, 2])([3]), tf.constant_initializer(7, dtype=tf.int32)([2]),
                tf.zeros_initializer()([2], dtype=tf.int64), tf.ones_initializer(dtype=tf.int32)([1, 2])]
        with tf.Session() as sess:
            return [(v.dtype.name, v.tolist()) for v in sess.run(init)]
    assert run_in_graph(tf, program) == [
        ("float32", [[3.0, 3.0], [3.0, 3.0]]), ("float32", [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        ("float32", [1.0, 2.0, 2.0]), ("int32", [7, 7]), ("int64", [0, 0]), ("int32", [[1, 1]])]


def test_glorot_uniform_limit_and_spread():
    fan_in, fan_out = 200, 300
    x = _initial(tfcore, lambda tf: tf.glorot_uniform_initializer(), [fan_in, fan_out])
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(x).max() <= limit and np.abs(x).max() > 0.99 * limit
    assert abs(x.std() - limit / math.sqrt(3.0)) < 0.02 * limit


def test_glorot_normal_has_the_requested_variance_after_truncation():
    x = _initial(tfcore, lambda tf: tf.glorot_normal_initializer(), [200, 300])
    want = math.sqrt(2.0 / 500)
    assert abs(x.std() - want) < 0.02 * want
    assert np.abs(x).max() <= 2 * want / TRUNCATED_STD + 1e-6


# A conv kernel [3, 3, 16, 32]: receptive field 9, so fan_in 144, fan_out 288, fan_avg 216.
@pytest.mark.parametrize("mode, distribution, fan", [
    ("fan_in", "uniform", 144), ("fan_out", "untruncated_normal", 288), ("fan_avg", "normal", 216),
    ("fan_in", "truncated_normal", 144)])
def test_variance_scaling_on_a_conv_kernel(mode, distribution, fan):
    x = _initial(tfcore, lambda tf: tf.variance_scaling_initializer(2.0, mode, distribution), [3, 3, 16, 32])
    assert x.shape == (3, 3, 16, 32)
    std = math.sqrt(2.0 / fan)  # the variance asked for is scale / fan, whatever the distribution
    assert abs(x.std() - std) < 0.03 * std
    if distribution == "uniform":
        assert np.abs(x).max() <= math.sqrt(3.0) * std
    elif distribution == "untruncated_normal":
        assert np.abs(x).max() > 2.5 * std
    else:  # TF1 reads "normal" as truncated normal, corrected to keep the variance
        assert np.abs(x).max() <= 2 * std / TRUNCATED_STD + 1e-6


@pytest.mark.parametrize("engine_name", engines())
def test_variance_scaling_rejects_bad_arguments(engine_name):
    tf = engine(engine_name)
    for kwargs in ({"scale": 0.0}, {"mode": "fan_sideways"}, {"distribution": "cauchy"}):
        with pytest.raises(ValueError):
            tf.variance_scaling_initializer(**kwargs)
    with pytest.raises(ValueError, match="floating point"):
        tf.random_normal_initializer(dtype=tf.int32)


@pytest.mark.parametrize("engine_name", engines())
def test_seeded_initializer_is_repeatable(engine_name):
    tf = engine(engine_name)
    make = lambda tf: tf.random_normal_initializer(seed=3)  # noqa: E731
    np.testing.assert_array_equal(_initial(tf, make, [4]), _initial(tf, make, [4]))


@pytest.mark.parametrize("engine_name", engines())
def test_get_variable_initializer_op_names(engine_name):
    tf = engine(engine_name)

    def program(tf):
        w = tf.get_variable("w", [3, 4], initializer=tf.truncated_normal_initializer(stddev=0.1))
        b = tf.get_variable("b", [4], initializer=tf.constant_initializer(0.1))
        names = [op.name for op in tf.get_default_graph().get_operations() if "Initializer" in op.name]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return w.name, names, sess.run(w), sess.run(b).tolist()
    w_name, names, w, b = run_in_graph(tf, program)
    assert w_name == "w:0"
    scope = "w/Initializer/truncated_normal"
    assert names == [f"{scope}/shape", f"{scope}/mean", f"{scope}/stddev", f"{scope}/TruncatedNormal",
                     f"{scope}/mul", scope, "b/Initializer/Const"]
    assert w.shape == (3, 4) and np.all(np.abs(w) <= 0.2 + 1e-7) and np.any(w != 0)
    np.testing.assert_allclose(b, [0.1] * 4)


@pytest.mark.parametrize("engine_name", engines())
def test_get_variable_defaults_to_glorot_uniform(engine_name):
    tf = engine(engine_name)

    def program(tf):
        v = tf.get_variable("v", [50, 30])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run(v)
    v = run_in_graph(tf, program)
    assert np.abs(v).max() <= math.sqrt(6.0 / 80) and v.std() > 0.1


def test_initializer_config_round_trip():
    init = tfcore.variance_scaling_initializer(scale=2.0, mode="fan_out", distribution="uniform", seed=4)
    copy = type(init).from_config(init.get_config())
    assert copy.get_config() == init.get_config()
    assert tfcore.glorot_uniform_initializer.from_config({"seed": 1}).seed == 1
