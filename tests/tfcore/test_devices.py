"""Devices and placement: device names, where each op runs, and where the plan copies.

Copies are counted by wrapping `tfcore.devices.copy`, the one function that moves arrays (the
`copies` fixture). Off the CPU the tests use TEST, the NumPy-backed device kind that the test suite
registers to check placement (tests/tfcore/conftest.py); the GPU tests at the end run where CuPy
sees a GPU and are skipped with the reason elsewhere.
"""

import logging

import numpy as np
import pytest

import tfcore as tf
from tfcore import devices
from tfcore.framework.registry import get_op_def, register_kernel

TEST = "/device:TEST:0"
GPU_REASON = devices.gpu_unavailable_reason()
needs_gpu = pytest.mark.skipif(GPU_REASON is not None, reason=f"no GPU device: {GPU_REASON}")
needs_no_gpu = pytest.mark.skipif(GPU_REASON is None,
                                  reason="a GPU is present: the missing-GPU errors cannot occur")

X = np.arange(12, dtype=np.float32).reshape(4, 3) - 5.0


@pytest.fixture
def graph():
    with tf.Graph().as_default() as g:
        yield g


def _placement(sess, fetches, feed_dict=None):
    """{op name: device kind} of the plan `sess.run(fetches, feed_dict)` compiled."""
    sess.run(fetches, feed_dict)
    plan = list(sess._plans.values())[-1]
    return {op.name: device.kind for op, device in plan.devices().items()}


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, canonical", [
    ("/gpu:0", "/device:GPU:0"), ("/cpu:0", "/device:CPU:0"), ("gpu", "/device:GPU:0"),
    ("GPU:1", "/device:GPU:1"), ("/device:GPU:1", "/device:GPU:1"), ("/device:gpu:*", "/device:GPU:*"),
    ("/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:0"),
    ("", ""), (None, "")])
def test_device_scopes_stamp_canonical_names(graph, name, canonical):
    with tf.device(name):
        c = tf.constant(1.0)
    assert c.op.device == canonical and c.device == canonical


def test_inner_device_scope_wins_and_none_clears(graph):
    with tf.device("/gpu:0"):
        a = tf.constant(1.0)
        with tf.device("/cpu:0"):
            b = tf.constant(2.0)
        with tf.device(None):
            c = tf.constant(3.0)
    assert (a.device, b.device, c.device) == ("/device:GPU:0", "/device:CPU:0", "")


def test_a_malformed_device_string_fails_at_the_scope():
    with pytest.raises(ValueError, match="Invalid device string '/gpu:0:x'"):
        devices.canonical("/gpu:0:x")


# --- placement on the test device and copies ----------------------------------------------------


def test_a_cpu_only_graph_makes_no_copy(graph, copies):
    x = tf.placeholder(tf.float32, [None, 3])
    v = tf.Variable(tf.ones([3, 2]))
    y = tf.reduce_sum(tf.nn.relu(tf.matmul(x, v)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(y, {x: X})
    assert copies == []


def test_copies_happen_exactly_where_the_plan_crosses_devices(graph, copies):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.device(TEST):
        doubled = tf.multiply(x, 2.0, name="doubled")  # the constant 2.0 lives on TEST too
        relu = tf.nn.relu(doubled, name="relu")
        neg = tf.negative(doubled, name="neg")  # a second reader of `doubled`: no second copy
    total = tf.add(relu, neg, name="total")  # on the CPU: two values come back
    with tf.Session() as sess:
        got = sess.run(total, {x: X})
        np.testing.assert_array_equal(got, np.maximum(2 * X, 0) - 2 * X)
        # x to TEST, the constant to TEST (once per plan), relu and neg back to the CPU.
        assert sorted(copies) == [("CPU", "TEST"), ("CPU", "TEST"), ("TEST", "CPU"), ("TEST", "CPU")]
        plan = list(sess._plans.values())[0]
        assert plan.copies() == [("x:0", "/device:CPU:0", TEST), ("relu:0", TEST, "/device:CPU:0"),
                                 ("neg:0", TEST, "/device:CPU:0")]
        copies.clear()
        sess.run(total, {x: X})
        assert len(copies) == 3  # the constant stays on its device between runs


def test_fetches_come_back_as_numpy_and_feeds_stay_untouched(graph, copies):
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device(TEST):
        y = tf.nn.relu(x)
    fed = X.copy()
    with tf.Session() as sess:
        got = sess.run(y, {x: fed})
    assert type(got) is np.ndarray and got.dtype == np.float32
    np.testing.assert_array_equal(fed, X)
    assert copies == [("CPU", "TEST"), ("TEST", "CPU")]


def test_variables_live_on_their_device_and_updates_run_there(graph, copies):
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device(TEST):
        w = tf.Variable(tf.ones([3, 2]), name="w")
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w)), name="loss")
        train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        assert _placement(sess, tf.global_variables_initializer())["w/Assign"] == "TEST"
        where = _placement(sess, train, {x: X})
        assert where["w"] == where["GradientDescent/update_w/ApplyGradientDescent"] == "TEST"
        copies.clear()
        sess.run(train, {x: X})
        assert copies == [("CPU", "TEST")]  # the feed only: the update reads and writes on TEST
        value = sess.run(w)
        assert copies[-1] == ("TEST", "CPU") and type(value) is np.ndarray
    want = np.ones((3, 2), np.float32)
    for _ in range(2):
        want = want - 0.01 * (2 * X.T @ (X @ want))
    np.testing.assert_allclose(value, want, rtol=1e-5)


def test_a_variable_read_on_another_device_is_copied_at_the_read(graph, copies):
    v = tf.Variable(np.float32([1.0, 2.0]), name="v")  # on the CPU
    with tf.device(TEST):
        y = tf.multiply(v._variable, 3.0, name="y")  # reads the variable itself, not v/read
        bump = tf.assign_add(v, [1.0, 1.0])  # colocated with v: on the CPU
    with tf.Session() as sess:
        sess.run(v.initializer)
        where = _placement(sess, [y, bump])
        assert where["y"] == "TEST" and where[bump.op.name] == "CPU"
        np.testing.assert_array_equal(sess.run(y), [6.0, 9.0])  # after the bump above
        copies.clear()
        sess.run(bump)
        np.testing.assert_array_equal(sess.run(y), [9.0, 12.0])
    # The bump runs where v lives, reading its constant (made on TEST) from TEST; y copies v's value
    # to TEST when it runs, and its result comes back.
    assert copies == [("TEST", "CPU"), ("CPU", "TEST"), ("TEST", "CPU")]


def test_shapes_stay_on_the_host(graph, copies):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.device(TEST):
        y = tf.nn.relu(x, name="y")
        flat = tf.reshape(y, tf.stack([tf.shape(y)[0] * 3]), name="flat")
        filled = tf.fill(tf.shape(y), 2.0, name="filled")
    with tf.Session() as sess:
        where = _placement(sess, [flat, filled], {x: X})
        copies.clear()
        got_flat, got_filled = sess.run([flat, filled], {x: X})
    # Shape runs on TEST without copying y; the int32 arithmetic runs on the CPU; Reshape's shape
    # and Fill's dims are read from the host: only x goes over and the two results come back.
    assert where["Shape"] == "TEST" and where["strided_slice"] == where["mul"] == where["stack"] == "CPU"
    assert where["flat"] == where["filled"] == "TEST"
    assert sorted(copies) == [("CPU", "TEST"), ("TEST", "CPU"), ("TEST", "CPU")]
    np.testing.assert_array_equal(got_flat, np.maximum(X, 0).reshape(-1))
    np.testing.assert_array_equal(got_filled, np.full((4, 3), 2.0, np.float32))


def test_random_ops_draw_on_the_host_so_a_seed_gives_the_same_numbers_everywhere(copies):
    results = {}
    for device in ("/device:CPU:0", TEST):
        with tf.Graph().as_default():
            with tf.device(device):
                tf.set_random_seed(7)
                r = tf.random_normal([5], seed=3, name="r")
            with tf.Session() as sess:
                where = _placement(sess, r)
                results[device] = sess.run(r)
        assert where["r/RandomStandardNormal"] == "CPU"
    np.testing.assert_array_equal(results["/device:CPU:0"], results[TEST])


def test_placement_facts_come_from_the_op_blocks():
    from tfcore.framework.registry import get_op_def, register_op
    assert get_op_def("Reshape").host_memory == (1,)
    assert get_op_def("RandomStandardNormal").host_only and get_op_def("Shape").metadata_only
    with pytest.raises(TypeError, match="register_op\\('NewOp'\\): unknown op facts \\['host_memroy'\\]"):
        register_op("NewOp", shape=None, kernel=None, host_memroy=(0,))


def test_cond_branches_across_devices(graph):
    x = tf.placeholder(tf.float32, [None, 3])
    flag = tf.placeholder(tf.bool, [])
    with tf.device(TEST):
        out = tf.cond(flag, lambda: tf.nn.relu(x), lambda: tf.negative(x))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(out, {x: X, flag: True}), np.maximum(X, 0))
        np.testing.assert_array_equal(sess.run(out, {x: X, flag: False}), -X)


def test_log_device_placement_prints_each_op_once_as_tf_does(graph, capsys):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.device(TEST):
        y = tf.nn.relu(x, name="y")
    z = tf.negative(y, name="z")
    with tf.Session(config=tf.ConfigProto(log_device_placement=True)) as sess:
        sess.run(z, {x: X})
        sess.run(z, {x: X})
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["y: (Relu): /job:localhost/replica:0/task:0/device:TEST:0",
                     "z: (Neg): /job:localhost/replica:0/task:0/device:CPU:0"]


def test_traces_list_each_device(graph):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.device(TEST):
        y = tf.nn.relu(x, name="y")
    z = tf.negative(y, name="z")
    meta = tf.RunMetadata()
    with tf.Session() as sess:
        sess.run(z, {x: X}, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE), run_metadata=meta)
    by_device = {d.device: [n.node_name for n in d.node_stats] for d in meta.step_stats.dev_stats}
    assert by_device == {"/job:localhost/replica:0/task:0/device:CPU:0": ["y/_Copy_0_to_CPU_0", "z"],
                         "/job:localhost/replica:0/task:0/device:TEST:0": ["x/_Copy_0_to_TEST_0", "y"]}


def test_a_device_kernel_is_used_on_its_device_only(graph):
    op_def = get_op_def("Neg")
    register_kernel("Neg", "TEST", lambda ctx, x: ctx.xp.negative(x) + 100.0)
    try:
        x = tf.constant(X)
        on_cpu = tf.negative(x)
        with tf.device(TEST):
            on_test = tf.negative(x)
        with tf.Session() as sess:
            a, b = sess.run([on_cpu, on_test])
        with pytest.raises(KeyError, match="Registering two TEST kernels for op 'Neg'"):
            register_kernel("Neg", "TEST", op_def.kernel)
    finally:
        del op_def.device_kernels["TEST"]
    np.testing.assert_array_equal(a, -X)
    np.testing.assert_array_equal(b, 100.0 - X)


@pytest.mark.parametrize("kernel, complaint", [
    (lambda ctx, x: np.asarray(x) * -1.0, "Implicit conversion to a NumPy array is not allowed"),
    (lambda ctx, x: ctx.xp.add(x, np.ones(x.shape, np.float32)), "a host (NumPy) array of shape (2,)"),
    (lambda ctx, x: -x + np.ones(x.shape, np.float32), "a host (NumPy) array of shape (2,)"),
], ids=["numpy-reads-a-device-array", "xp-gets-a-host-array", "operator-mixes-host-and-device"])
def test_the_test_device_rejects_what_cupy_rejects(graph, kernel, complaint):
    # What makes the op tests on the test device mean something for the GPU: a kernel that leaves
    # its `xp` fails there as it would on CuPy.
    op_def = get_op_def("Neg")
    register_kernel("Neg", "TEST", kernel)
    try:
        with tf.device(TEST):
            y = tf.negative(tf.constant([1.0, 2.0]), name="strict_neg")
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match="TypeError in op 'strict_neg'") as info:
                sess.run(y)
        assert complaint in str(info.value)
    finally:
        del op_def.device_kernels["TEST"]


# --- devices that are not there ---------------------------------------------------------------


def test_an_unknown_device_fails_at_plan_time_naming_the_op(graph):
    x = tf.placeholder(tf.float32, [])
    with tf.device("/device:TPU:0"):
        y = tf.negative(x, name="neg_on_tpu")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Cannot assign a device for operation neg_on_tpu \(Neg\).*'/device:TPU:0'"
                                 r".*no device kind 'TPU'") as info:
            sess.run(y, {x: 1.0})
    assert info.value.op is y.op


def test_a_string_op_has_no_kernel_on_an_accelerator(graph, caplog):
    with tf.device(TEST):
        s = tf.summary.scalar("loss", tf.constant(1.0))
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="no TEST kernel for ScalarSummary"):
            sess.run(s)
    config = tf.ConfigProto(allow_soft_placement=True)
    with tf.Session(config=config) as sess, caplog.at_level(logging.WARNING, logger="tfcore"):
        where = _placement(sess, s)
    assert where[s.op.name] == "CPU" and where["Const"] == "TEST"
    assert "allow_soft_placement: 1 op(s) asked for /device:TEST:0 run on /device:CPU:0" in caplog.text


@needs_no_gpu
def test_asking_for_a_missing_gpu_names_the_op_and_why(graph):
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device("/gpu:0"):
        y = tf.nn.relu(x, name="relu_on_gpu")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(y, {x: X})
    message = str(info.value)
    assert "relu_on_gpu (Relu)" in message and "'/device:GPU:0'" in message
    assert GPU_REASON in message and "allow_soft_placement=True" in message


@needs_no_gpu
def test_soft_placement_falls_back_to_the_cpu_with_one_log_line(graph, caplog):
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device("/gpu:0"):
        w = tf.Variable(tf.ones([3, 2]))
        y = tf.nn.relu(tf.matmul(x, w))
    config = tf.ConfigProto(allow_soft_placement=True)
    with tf.Session(config=config) as sess, caplog.at_level(logging.WARNING, logger="tfcore"):
        sess.run(tf.global_variables_initializer())
        got = sess.run(y, {x: X})
    np.testing.assert_allclose(got, np.maximum(X @ np.ones((3, 2)), 0))
    fallbacks = [r.getMessage() for r in caplog.records if "allow_soft_placement" in r.getMessage()]
    assert len(fallbacks) == 2  # one line per compiled plan (initializer, then y)
    assert all("asked for /device:GPU:0 run on /device:CPU:0" in m and GPU_REASON in m for m in fallbacks)


def test_device_count_hides_a_kind_from_the_session(graph, caplog):
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device(TEST):
        y = tf.nn.relu(x, name="hidden_relu")
    with tf.Session(config=tf.ConfigProto(device_count={"TEST": 0})) as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"hidden_relu \(Relu\).*device_count=\{'TEST': 0\}\) hides it"):
            sess.run(y, {x: X})
    config = tf.ConfigProto(device_count={"TEST": 0}, allow_soft_placement=True)
    with tf.Session(config=config) as sess, caplog.at_level(logging.WARNING, logger="tfcore"):
        assert _placement(sess, y, {x: X}) == {"hidden_relu": "CPU"}
    with tf.Session(config=tf.ConfigProto(device_count={"TEST": 1})) as sess:
        assert _placement(sess, y, {x: X}) == {"hidden_relu": "TEST"}


def test_list_devices_names_the_cpu_first():
    with tf.Session(graph=tf.Graph()) as sess:
        names = sess.list_devices()
    assert names[0] == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert any(n.endswith("device:GPU:0") for n in names) == (GPU_REASON is None)


# --- the real GPU -----------------------------------------------------------------------------


@pytest.mark.gpu
@needs_gpu
def test_gpu_kernels_get_cupy_and_values_come_back_as_numpy(graph, copies):
    import cupy
    seen = []
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.device("/gpu:0"):
        w = tf.Variable(tf.ones([3, 2]))
        y = tf.nn.relu(tf.matmul(x, w))
        loss = tf.reduce_mean(tf.square(y))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
    with tf.Session(config=tf.ConfigProto(log_device_placement=True)) as sess:
        sess.run(tf.global_variables_initializer())
        assert isinstance(sess._state.variables.values[w.op.name], cupy.ndarray)
        for _ in range(3):
            got, _ = sess.run([y, train], {x: X})
        seen.append(type(got))
        value = sess.run(w)
    assert seen == [np.ndarray] and type(value) is np.ndarray
    assert ("CPU", "GPU") in copies and ("GPU", "CPU") in copies


@pytest.mark.gpu
@needs_gpu
def test_gpu_and_cpu_agree_on_a_conv_net_step():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((8, 28, 28, 1)).astype(np.float32)
    filters = rng.standard_normal((5, 5, 1, 4)).astype(np.float32) * 0.1
    results = []
    for device in ("/cpu:0", "/gpu:0"):
        with tf.Graph().as_default(), tf.device(device):
            x = tf.constant(images)
            f = tf.Variable(filters)
            pooled = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME")),
                                    [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
            loss = tf.reduce_sum(tf.square(pooled))
            grad = tf.gradients(loss, f)[0]
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                results.append(sess.run([loss, grad]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-4)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-4)


# --- the course's choice ----------------------------------------------------------------------


def test_course_picks_the_gpu_where_present_and_says_which(monkeypatch, capsys):
    import course
    monkeypatch.delenv("COURSE_ENGINE", raising=False)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    picked = course.pick_device()
    printed = capsys.readouterr().out
    if GPU_REASON is None:
        assert picked == "/gpu:0" and printed.startswith("Device: /device:GPU:0 (")
    else:
        assert picked == "/cpu:0"
        assert printed == f"Device: /device:CPU:0 (NumPy {np.__version__}); no GPU ({GPU_REASON})\n"
    assert course.pick_device("cpu", quiet=True) == "/cpu:0" and capsys.readouterr().out == ""
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="COURSE_DEVICE='tpu' is not one of"):
        course.pick_device()


@needs_no_gpu
def test_course_asked_for_a_gpu_says_why_there_is_none(monkeypatch):
    import course
    monkeypatch.delenv("COURSE_ENGINE", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "gpu")
    with pytest.raises(RuntimeError, match="COURSE_DEVICE=gpu, but no GPU can be used on tfcore: CuPy"):
        course.pick_device()


# --- the GPU benchmark section ----------------------------------------------------------------


@needs_no_gpu
def test_the_gpu_benchmark_section_says_why_it_was_skipped():
    from benchmarks import gpu
    section = gpu.run_section(quick=True, log=lambda message: None)
    assert gpu.section_text(section) == f"GPU section skipped: {GPU_REASON}"


def test_the_gpu_benchmark_section_judges_both_goals():
    from benchmarks import gpu
    cells = {"tfcore_gpu": {"value": 3.0}, "tensorflow_gpu": {"value": 2.5}, "tfcore_cpu": {"value": 24.0}}
    row = gpu.evaluate(cells)
    assert row["tfcore_gpu_over_tf_gpu"] == pytest.approx(1.2) and row["goal_vs_tf_met"] is True
    assert row["cpu_over_gpu"] == pytest.approx(8.0) and row["goal_vs_cpu_met"] is False
    no_tf = gpu.evaluate({**cells, "tensorflow_gpu": {"na": "TensorFlow sees no GPU"}})
    assert no_tf["tfcore_gpu_over_tf_gpu"] is None and no_tf["goal_vs_tf_met"] is None
    section = {"device": "/device:GPU:0 (test)", "workloads": [
        {"name": "lenet_train", "title": "LeNet-5", "unit": "ms", "results": {**cells, "tensorflow_gpu": {
            "na": "TensorFlow sees no GPU"}}, **no_tf}]}
    text = gpu.section_text(section).splitlines()
    assert text[0] == "GPU section on /device:GPU:0 (test):"
    assert text[3].split() == ["LeNet-5", "ms", "3.00", "n/a", "24.0", "n/a", "<=", "1.5", "-", "8.0", ">=",
                               "10", "not", "met"]
    assert text[4] == "lenet_train on TensorFlow GPU: TensorFlow sees no GPU"
