"""tfcore's own threads (tfcore/client/scheduler.py): the parallel kernels against the reference
kernels, the fused convolution, and whole graphs run serially, on several threads and out of order.

The pieces a kernel hands to `ctx.map` depend on the shapes alone, so a kernel gives bit-for-bit the
same values on one thread and on four; the piece sizes are made small here so that every kernel is
cut into many pieces. No test times anything.
"""

import numpy as np
import pytest

import tfcore as tf
from tfcore.client import scheduler
from tfcore.client.plan import Plan
from tfcore.client.session_state import SessionState
from tfcore.framework.registry import KernelContext, get_op_def
from tfcore.ops import conv_fast, conv_ops, math_fast
from tfcore.train import training_fast

CONV = {"strides": [1, 1, 1, 1], "padding": "SAME", "explicit_paddings": [], "dilations": [1, 1, 1, 1],
        "data_format": "NHWC"}
STRIDED = dict(CONV, strides=[1, 2, 2, 1])
POOL = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME", "data_format": "NHWC"}
OVERLAP = {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME", "data_format": "NHWC"}


@pytest.fixture
def small_pieces(monkeypatch):
    """Every kernel cut into many pieces."""
    monkeypatch.setattr(conv_fast, "IM2COL_PIECE_BYTES", 3000)
    monkeypatch.setattr(conv_fast, "POOL_PIECE_BYTES", 1000)
    monkeypatch.setattr(math_fast, "MATMUL_PIECE_FLOPS", 2000)
    monkeypatch.setattr(math_fast, "MIN_ROWS", 4)
    monkeypatch.setattr(training_fast, "BLOCK_ELEMENTS", 64)


def _contexts():
    """A serial context and one on four threads."""
    return KernelContext(np), KernelContext(np, runner=scheduler.Scheduler(4, 1).map)


def _cases(rng, dtype):
    x = rng.standard_normal((5, 9, 11, 3)).astype(dtype)
    f = rng.standard_normal((3, 3, 3, 4)).astype(dtype)
    dy = rng.standard_normal((5, 9, 11, 4)).astype(dtype)
    dy2 = rng.standard_normal((5, 5, 6, 4)).astype(dtype)
    pooled = conv_ops._max_pool_kernel(KernelContext(np), x, **POOL)
    pooled3 = conv_ops._max_pool_kernel(KernelContext(np), x, **OVERLAP)
    a, b = rng.standard_normal((70, 30)).astype(dtype), rng.standard_normal((30, 90)).astype(dtype)
    sizes, fsizes = np.array(x.shape), np.array(f.shape)
    return {
        "Conv2D": (conv_fast._conv2d_kernel, (x, f), CONV),
        "Conv2DBackpropInput": (conv_fast._conv2d_backprop_input_kernel, (sizes, f, dy), CONV),
        "Conv2DBackpropInput strided": (conv_fast._conv2d_backprop_input_kernel, (sizes, f, dy2), STRIDED),
        "Conv2DBackpropFilter": (conv_fast._conv2d_backprop_filter_kernel, (x, fsizes, dy), CONV),
        "Conv2DBackpropFilter strided": (conv_fast._conv2d_backprop_filter_kernel, (x, fsizes, dy2), STRIDED),
        "MaxPool": (conv_fast._max_pool_kernel, (x,), POOL),
        "MaxPoolGrad": (conv_fast._max_pool_grad_kernel, (x, pooled, pooled * 2 + 1), POOL),
        "MaxPoolGrad overlapping": (conv_fast._max_pool_grad_kernel, (x, pooled3, pooled3 - 1), OVERLAP),
        "MaxPoolGradGrad": (conv_fast._max_pool_grad_grad_kernel, (x, pooled, x * 3), POOL),
        "AvgPool": (conv_fast._avg_pool_kernel, (x,), OVERLAP),
        "AvgPoolGrad": (conv_fast._avg_pool_grad_kernel, (sizes, pooled3), OVERLAP),
        "MatMul": (math_fast._matmul_kernel, (a, b), {"transpose_a": False, "transpose_b": False}),
        "MatMul transposed": (math_fast._matmul_kernel, (a.T.copy(), b.T.copy()),
                              {"transpose_a": True, "transpose_b": True}),
        "MatMul wide": (math_fast._matmul_kernel, (a[:8], b), {"transpose_a": False, "transpose_b": False}),
        "L2Loss": (math_fast._l2_loss_kernel, (x,), {}),
        "L2Loss strided": (math_fast._l2_loss_kernel, (x[:, ::2, 1:],), {}),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_kernels_give_the_serial_values_bit_for_bit_and_the_reference_values(small_pieces, dtype):
    serial, parallel = _contexts()
    for name, (kernel, args, attrs) in _cases(np.random.default_rng(3), dtype).items():
        one = kernel(serial, *args, **attrs)
        four = kernel(parallel, *args, **attrs)
        again = kernel(parallel, *args, **attrs)
        reference = get_op_def(name.split()[0]).kernel(serial, *args, **attrs)
        assert one.dtype == four.dtype == reference.dtype == dtype, name
        np.testing.assert_array_equal(one, four, err_msg=name)
        np.testing.assert_array_equal(four, again, err_msg=name)
        tolerance = 1e-4 if dtype == np.float32 else 1e-10
        np.testing.assert_allclose(four, reference, rtol=tolerance, atol=tolerance, err_msg=name)


def test_l2_loss_in_half_precision_takes_the_sum_of_squares():
    t = np.linspace(-2, 2, 50).astype(np.float16)
    value = math_fast._l2_loss_kernel(KernelContext(np), t)
    assert value.dtype == np.float16
    assert value == get_op_def("L2Loss").kernel(KernelContext(np), t)


class _Ref:
    """A variable reference for calling an Apply kernel directly."""

    def __init__(self, value):
        self.value = value

    def read(self):
        return self.value

    def write(self, value):
        self.value = value


def test_parallel_adam_gives_the_reference_kernels_values_bit_for_bit(small_pieces):
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((40, 30)).astype(np.float32) for _ in range(3)]
    start[2] = np.abs(start[2])
    grad = rng.standard_normal((40, 30)).astype(np.float32)
    hyper = [np.float32(v) for v in (0.9 ** 3, 0.999 ** 3, 0.01, 0.9, 0.999, 1e-8)]
    results = []
    for kernel, ctx in [(get_op_def("ApplyAdam").kernel, KernelContext(np)),
                        (training_fast._apply_adam_kernel, _contexts()[1])]:
        refs = [_Ref(a.copy()) for a in start]
        kernel(ctx, *refs, *hyper, grad)
        results.append([r.value for r in refs])
    for reference, fast in zip(*results):
        np.testing.assert_array_equal(reference, fast)


def test_the_fused_convolution_gives_the_reference_kernels_values(small_pieces):
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((4, 8, 8, 3)).astype(dtype)
        f = rng.standard_normal((3, 3, 3, 5)).astype(dtype)
        bias = rng.standard_normal(5).astype(dtype)
        serial = KernelContext(np)
        conv = get_op_def("Conv2D").kernel(serial, x, f, **CONV)
        biased = get_op_def("BiasAdd").kernel(serial, conv, bias, "NHWC")
        for attrs, want in [((CONV, {"data_format": "NHWC"}, {}), np.maximum(biased, 0)),
                            ((CONV, {"data_format": "NHWC"}), biased)]:
            for ctx in _contexts():
                got = conv_fast._conv2d_bias_relu_kernel(ctx, x, f, bias, attrs=attrs)
                assert got.dtype == dtype
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _conv_net(fetch_conv=False):
    x = tf.placeholder(tf.float32, [None, 6, 6, 2], name="x")
    w = tf.Variable(np.random.default_rng(1).standard_normal((3, 3, 2, 4)).astype(np.float32), name="w")
    b = tf.Variable(np.linspace(-1, 1, 4).astype(np.float32), name="b")
    conv = tf.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
    relu = tf.nn.relu(tf.nn.bias_add(conv, b))
    return x, conv, relu, [relu, conv] if fetch_conv else [relu]


def test_a_plan_fuses_convolution_bias_and_relu_only_where_nothing_else_reads_inside():
    images = np.random.default_rng(2).standard_normal((3, 6, 6, 2)).astype(np.float32)
    for fetch_conv, fused in [(False, True), (True, False)]:
        with tf.Graph().as_default() as graph:
            x, conv, relu, fetches = _conv_net(fetch_conv)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                values = sess.run(fetches, {x: images})
                state = sess._state
            plan = Plan(graph, fetches, [x], state=state)
            chains = [tuple(op.type for op in step.fused) for step in plan.steps if step.fused]
            assert chains == ([("Conv2D", "BiasAdd", "Relu")] if fused else [])
            with tf.Session(config=tf.ConfigProto(reference_kernels=True)) as sess:
                sess.run(tf.global_variables_initializer())
                for got, want in zip(values, sess.run(fetches, {x: images})):
                    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_traced_fused_step_lists_every_op_of_the_chain():
    with tf.Graph().as_default():
        x, _, _, fetches = _conv_net()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            metadata = tf.RunMetadata()
            sess.run(fetches, {x: np.ones((1, 6, 6, 2), np.float32)},
                     options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=metadata)
    types = {n.op_type for d in metadata.step_stats.dev_stats for n in d.node_stats}
    assert {"Conv2D", "BiasAdd", "Relu"} <= types


def _train(config, steps=4):
    """Losses and final weights of a small LeNet-like network trained with Adam and dropout."""
    rng = np.random.default_rng(4)
    images = rng.standard_normal((16, 12, 12, 1)).astype(np.float32)
    labels = rng.integers(0, 3, 16)
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, 12, 12, 1])
        y = tf.placeholder(tf.int64, [None])
        w1 = tf.Variable(rng.standard_normal((3, 3, 1, 6)).astype(np.float32) * 0.3)
        b1 = tf.Variable(np.zeros(6, np.float32))
        w2 = tf.Variable(rng.standard_normal((6 * 6 * 6, 3)).astype(np.float32) * 0.1)
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME"), b1))
        h = tf.nn.max_pool(h, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        h = tf.nn.dropout(tf.reshape(h, [-1, 6 * 6 * 6]), rate=0.25)
        logits = tf.matmul(h, w2)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([train, loss], {x: images, y: labels})[1] for _ in range(steps)]
            return losses, sess.run([w1, b1, w2]), sess.threads


def _config(intra, inter):
    return tf.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter)


def test_training_gives_the_same_numbers_serially_on_threads_and_out_of_order(small_pieces, monkeypatch):
    serial, serial_weights, threads = _train(_config(1, 1))
    assert threads == {"intra_op": 1, "inter_op": 1, "blas": 1}
    monkeypatch.setattr(scheduler, "HEAVY_SECONDS", 0.0)  # every step may run on a pool thread
    for intra, inter in [(3, 1), (1, 3), (3, 3)]:
        first, first_weights, threads = _train(_config(intra, inter))
        second, second_weights, _ = _train(_config(intra, inter))
        assert threads["intra_op"] == intra and threads["inter_op"] == inter
        assert first == second, "not deterministic from run to run"
        for a, b in zip(first_weights, second_weights):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(first, serial, rtol=1e-5)
        for a, b in zip(first_weights, serial_weights):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_variable_reads_and_writes_keep_the_plans_order_out_of_order(monkeypatch):
    monkeypatch.setattr(scheduler, "HEAVY_SECONDS", 0.0)
    with tf.Graph().as_default():
        v = tf.Variable(np.arange(4.0, dtype=np.float32))
        before = v * 1.0
        with tf.control_dependencies([before]):
            update = tf.assign_add(v, np.ones(4, np.float32))
        with tf.control_dependencies([update]):
            after = tf.identity(v.read_value() * 1.0)
        with tf.Session(config=_config(2, 4)) as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(5):
                got_before, got_after = sess.run([before, after])
                np.testing.assert_array_equal(got_before, np.arange(4) + step)
                np.testing.assert_array_equal(got_after, np.arange(4) + step + 1)


def test_an_error_on_a_pool_thread_names_its_op(monkeypatch):
    monkeypatch.setattr(scheduler, "HEAVY_SECONDS", 0.0)
    with tf.Graph().as_default():
        a = tf.placeholder(tf.float32, [None, None])
        bad = tf.matmul(a, a, name="square_it")
        ok = tf.reduce_sum(a * 2.0)
        with tf.Session(config=_config(2, 3)) as sess:
            value = np.ones((2, 2), np.float32)
            sess.run([bad, ok], {a: value})  # the first run is serial (it times the steps)
            with pytest.raises(tf.errors.InvalidArgumentError, match="square_it"):
                sess.run([bad, ok], {a: np.ones((2, 3), np.float32)})


def test_thread_counts_come_from_the_usable_cpus_and_bad_ones_are_refused(monkeypatch):
    monkeypatch.setenv("TFCORE_NUM_THREADS", "3")
    with tf.Session(graph=tf.Graph()) as sess:
        assert sess.threads == {"intra_op": 3, "inter_op": 3, "blas": 1}
    with pytest.raises(ValueError, match="intra_op_parallelism_threads"):
        tf.Session(graph=tf.Graph(), config=_config(-1, 0))


def test_a_run_leaves_numpys_blas_threads_as_it_found_them():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    with tf.Graph().as_default():
        a = tf.constant(np.ones((3, 3), np.float32))
        with tf.Session() as sess:
            sess.run(tf.matmul(a, a))
    after = [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    assert before == after


def test_state_without_a_runner_runs_pieces_in_turn():
    assert SessionState().runner is None
    assert KernelContext(np).map(lambda p: p * 2, [1, 2, 3]) == [2, 4, 6]
