"""tf.train: optimizers, learning-rate schedules, moving averages and the global step.

Each program is written once against `tf` and run on tfcore and, where installed, on real
TensorFlow; training trajectories (every loss, the final variables) must agree.
"""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import engine, engines, require_tf, run_in_graph

# ------------------------------------------------------------------------------------------------
# A small two-layer model with fixed initial values (so both engines start from the same point)
# ------------------------------------------------------------------------------------------------

_RNG = np.random.default_rng(2024)
X = _RNG.normal(size=(16, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
W1 = (_RNG.normal(size=(3, 4)) * 0.5).astype(np.float32)
B1 = np.full([4], 0.1, np.float32)
W2 = (_RNG.normal(size=(4, 1)) * 0.5).astype(np.float32)
B2 = np.zeros([1], np.float32)


def _model(tf, dtype=np.float32):
    """pred = (h * h) @ w2 + b2 with h = x @ w1 + b1; loss = mean squared error."""
    x = tf.constant(X.astype(dtype), name="x")
    y = tf.constant(Y.astype(dtype), name="y")
    kind = tf.as_dtype(dtype)
    with tf.variable_scope("layer1"):
        w1 = tf.get_variable("weights", initializer=W1.astype(dtype), dtype=kind)
        b1 = tf.get_variable("biases", initializer=B1.astype(dtype), dtype=kind)
    with tf.variable_scope("layer2"):
        w2 = tf.get_variable("weights", initializer=W2.astype(dtype), dtype=kind)
        b2 = tf.get_variable("biases", initializer=B2.astype(dtype), dtype=kind)
    h = tf.matmul(x, w1) + b1
    pred = tf.matmul(h * h, w2) + b2
    err = pred - y
    return tf.reduce_mean(err * err)


def _train(tf, make_optimizer, steps=20, dtype=np.float32, var_list=None):
    """Train the model; return the losses, the global steps seen and every global variable's value."""
    loss = _model(tf, dtype)
    step = tf.train.get_or_create_global_step()
    chosen = None if var_list is None else [v for v in tf.trainable_variables() if v.op.name in var_list]
    optimizer = make_optimizer(tf, step)
    train_op = optimizer.minimize(loss, global_step=step, var_list=chosen)
    losses, seen = [], []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(steps):
            _, loss_value, step_value = sess.run([train_op, loss, step])
            losses.append(loss_value)
            seen.append(step_value)
        final = sess.run({v.op.name: v for v in tf.global_variables()})
        slots = {name: sorted(optimizer.get_slot(v, name).op.name for v in tf.trainable_variables()
                              if optimizer.get_slot(v, name) is not None)
                 for name in optimizer.get_slot_names()}
    return {"losses": np.array(losses), "steps": seen, "final": final, "train_op": train_op.name,
            "slot_names": optimizer.get_slot_names(), "slots": slots,
            "variables": [v.op.name for v in optimizer.variables()]}


OPTIMIZERS = {
    "gradient_descent": lambda tf, step: tf.train.GradientDescentOptimizer(0.05),
    "momentum": lambda tf, step: tf.train.MomentumOptimizer(0.02, 0.9),
    "nesterov": lambda tf, step: tf.train.MomentumOptimizer(0.02, 0.9, use_nesterov=True),
    "adam": lambda tf, step: tf.train.AdamOptimizer(0.05),
    "adam_tensor_hyper": lambda tf, step: tf.train.AdamOptimizer(tf.constant(0.02), beta1=0.8, epsilon=1e-6),
    "rmsprop": lambda tf, step: tf.train.RMSPropOptimizer(0.01),
    "rmsprop_momentum_centered": lambda tf, step: tf.train.RMSPropOptimizer(0.005, decay=0.8, momentum=0.5,
                                                                             centered=True),
    "adagrad": lambda tf, step: tf.train.AdagradOptimizer(0.1),
    "adagrad_initial_1": lambda tf, step: tf.train.AdagradOptimizer(0.1, initial_accumulator_value=1.0),
    "decayed_gradient_descent": lambda tf, step: tf.train.GradientDescentOptimizer(
        tf.train.exponential_decay(0.05, step, 3.0, 0.9, staircase=True)),
}


@pytest.mark.tensorflow
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_trajectory_matches_tensorflow(name):
    tf_real = require_tf()
    ours = run_in_graph(tfcore, _train, OPTIMIZERS[name])
    theirs = run_in_graph(tf_real, _train, OPTIMIZERS[name])
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5, atol=1e-7, err_msg=name)
    assert ours["losses"][-1] < ours["losses"][0], f"{name}: the loss should go down"
    assert sorted(ours["final"]) == sorted(theirs["final"])
    for key in theirs["final"]:
        np.testing.assert_allclose(ours["final"][key], theirs["final"][key], rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}: {key}")
        assert np.asarray(ours["final"][key]).dtype == np.asarray(theirs["final"][key]).dtype
    for key in ("steps", "slot_names", "slots", "variables"):
        assert ours[key] == theirs[key], f"{name}: {key}"


@pytest.mark.tensorflow
def test_float64_training_matches_tensorflow():
    tf_real = require_tf()
    make = OPTIMIZERS["adam"]
    ours = run_in_graph(tfcore, _train, make, dtype=np.float64)
    theirs = run_in_graph(tf_real, _train, make, dtype=np.float64)
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-12)
    assert ours["final"]["layer1/weights/Adam"].dtype == np.float64


@pytest.mark.parametrize("engine_name", engines())
def test_slot_names_and_update_op_names(engine_name):
    tf = engine(engine_name)

    def program(tf):
        loss = _model(tf)
        step = tf.train.get_or_create_global_step()
        opt = tf.train.AdamOptimizer(0.01)
        train_op = opt.minimize(loss, global_step=step)
        names = {op.name for op in tf.get_default_graph().get_operations()}
        return train_op, opt, names, [v.op.name for v in tf.global_variables()], tf.trainable_variables()

    train_op, opt, names, global_names, trainable = run_in_graph(tf, program)
    assert train_op.name == "Adam" and train_op.type == "AssignAdd"
    assert {"Adam/update_layer1/weights/ApplyAdam", "Adam/update_layer2/biases/ApplyAdam",
            "Adam/update"} <= names
    assert global_names == ["layer1/weights", "layer1/biases", "layer2/weights", "layer2/biases",
                            "global_step",
                            "beta1_power", "beta2_power",
                            "layer1/weights/Adam", "layer1/weights/Adam_1", "layer1/biases/Adam",
                            "layer1/biases/Adam_1", "layer2/weights/Adam", "layer2/weights/Adam_1",
                            "layer2/biases/Adam", "layer2/biases/Adam_1"]
    assert [v.op.name for v in trainable] == ["layer1/weights", "layer1/biases", "layer2/weights",
                                              "layer2/biases"]
    assert opt.get_slot_names() == ["m", "v"]
    assert opt.get_slot(trainable[0], "m").op.name == "layer1/weights/Adam"
    assert opt.get_slot(trainable[0], "v").op.name == "layer1/weights/Adam_1"
    assert opt.get_slot(trainable[0], "nope") is None


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("make, expected", [
    (lambda tf: tf.train.GradientDescentOptimizer(0.1), []),
    (lambda tf: tf.train.MomentumOptimizer(0.1, 0.9), ["w/Momentum"]),
    (lambda tf: tf.train.RMSPropOptimizer(0.1), ["w/RMSProp", "w/RMSProp_1"]),
    (lambda tf: tf.train.RMSPropOptimizer(0.1, centered=True), ["w/RMSProp", "w/RMSProp_1", "w/RMSProp_2"]),
    (lambda tf: tf.train.AdagradOptimizer(0.1), ["w/Adagrad"]),
], ids=["sgd", "momentum", "rmsprop", "rmsprop_centered", "adagrad"])
def test_slots_are_global_non_trainable_and_named_like_tf1(engine_name, make, expected):
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(np.ones([2], np.float32), name="w")
        opt = make(tf)
        train_op = opt.minimize(tf.reduce_sum(w * w))
        slots = [v for v in tf.global_variables() if v.op.name != "w"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            initial = sess.run(slots)
            sess.run(train_op)
        return (train_op.name, [v.op.name for v in slots], [v.op.name for v in tf.trainable_variables()],
                initial, [v.op.name for v in opt.variables()])

    train_name, slot_names, trainable, initial, variables = run_in_graph(tf, program)
    assert train_name == make(tf).get_name()
    assert slot_names == expected == variables
    assert trainable == ["w"]
    if expected and expected[0] == "w/RMSProp":
        np.testing.assert_array_equal(initial[0], [1.0, 1.0])  # rms starts at one
    if expected == ["w/Adagrad"]:
        np.testing.assert_allclose(initial[0], [0.1, 0.1])


@pytest.mark.parametrize("engine_name", engines())
def test_global_step_fetched_with_train_op_shows_the_increment(engine_name):
    """The classic MNIST program prints "After 1 training step(s)" on its first step."""
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(3.0, name="w")
        global_step = tf.Variable(0, trainable=False)
        train_step = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=global_step)
        with tf.control_dependencies([train_step]):
            train_op = tf.no_op(name="train")
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            return [sess.run([train_op, global_step])[1] for _ in range(3)], sess.run(w)

    steps, w = run_in_graph(tf, program)
    assert steps == [1, 2, 3]
    np.testing.assert_allclose(w, 3.0 * 0.8 ** 3, rtol=1e-6)


@pytest.mark.parametrize("engine_name", engines())
def test_minimize_with_var_list_updates_only_those(engine_name):
    tf = engine(engine_name)
    result = run_in_graph(tf, _train, OPTIMIZERS["momentum"], steps=3, var_list=["layer2/weights"])
    np.testing.assert_array_equal(result["final"]["layer1/weights"], W1)
    np.testing.assert_array_equal(result["final"]["layer2/biases"], B2)
    assert not np.array_equal(result["final"]["layer2/weights"], W2)
    assert result["slots"] == {"momentum": ["layer2/weights/Momentum"]}
    assert result["steps"] == [1, 2, 3]


@pytest.mark.parametrize("engine_name", engines())
def test_compute_and_apply_gradients(engine_name):
    tf = engine(engine_name)

    def program(tf):
        a = tf.Variable(np.array([1.0, 2.0], np.float32), name="a")
        b = tf.Variable(np.array([5.0], np.float32), name="b")
        frozen = tf.Variable(7.0, name="frozen", trainable=False)
        loss = tf.reduce_sum(a * a) * frozen
        opt = tf.train.GradientDescentOptimizer(0.5)
        grads_and_vars = opt.compute_gradients(loss)
        assert [v.op.name for _, v in grads_and_vars] == ["a", "b"]
        assert grads_and_vars[1][0] is None  # b does not affect the loss
        # Scale the gradients before applying them (the usual clipping pattern).
        scaled = [(g * 0.1 if g is not None else None, v) for g, v in grads_and_vars]
        step = tf.train.get_or_create_global_step()
        train_op = opt.apply_gradients(scaled, global_step=step, name="train")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train_op)
            return train_op.name, sess.run([a, b, step])

    name, (a, b, step) = run_in_graph(tf, program)
    assert name == "train"
    np.testing.assert_allclose(a, [1.0 - 0.5 * 0.1 * 14.0, 2.0 - 0.5 * 0.1 * 28.0], rtol=1e-6)
    np.testing.assert_array_equal(b, [5.0])
    assert step == 1


@pytest.mark.parametrize("engine_name", engines())
def test_no_gradients_is_a_value_error(engine_name):
    tf = engine(engine_name)

    def program(tf):
        a = tf.Variable(1.0, name="a")
        b = tf.Variable(2.0, name="b")
        opt = tf.train.GradientDescentOptimizer(0.1)
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.minimize(a * 2.0, var_list=[b])
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.apply_gradients([(None, a), (None, b)])
        with pytest.raises(ValueError, match="No variables provided"):
            opt.apply_gradients([])
        with pytest.raises(ValueError):
            tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)

    run_in_graph(tf, program)


@pytest.mark.parametrize("engine_name", engines())
def test_adam_beta_powers_advance_after_each_step(engine_name):
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(np.array([1.0, -1.0], np.float32), name="w")
        opt = tf.train.AdamOptimizer(0.1, beta1=0.5, beta2=0.25)
        train_op = opt.minimize(tf.reduce_sum(w * w))
        beta1_power, beta2_power = [v for v in opt.variables() if "power" in v.op.name]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run([beta1_power, beta2_power])
            sess.run(train_op)
            sess.run(train_op)
            return before, sess.run([beta1_power, beta2_power]), sess.run(w)

    before, after, w = run_in_graph(tf, program)
    np.testing.assert_allclose(before, [0.5, 0.25])
    np.testing.assert_allclose(after, [0.125, 0.015625])
    # Step 1: m = 0.5 g, v = 0.75 g^2, lr_t = 0.1 sqrt(0.75) / 0.5: the step is 0.1 in each coordinate.
    assert np.all(np.abs(w) < 1.0)


@pytest.mark.parametrize("engine_name", engines())
def test_global_step_helpers(engine_name):
    tf = engine(engine_name)

    def program(tf):
        assert tf.train.get_global_step() is None
        step = tf.train.get_or_create_global_step()
        assert tf.train.get_or_create_global_step() is step
        assert tf.train.get_global_step() is step
        with pytest.raises(ValueError, match="already exists"):
            tf.train.create_global_step()
        assert step.op.name == "global_step"
        assert step.dtype.base_dtype == tf.int64
        assert step.get_shape().as_list() == []
        assert step not in tf.trainable_variables()
        assert step in tf.global_variables()
        assert tf.get_collection(tf.GraphKeys.GLOBAL_STEP) == [step]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = tf.train.global_step(sess, step)
        return value, type(value)

    assert run_in_graph(tf, program) == (0, int)


@pytest.mark.parametrize("engine_name", engines())
def test_get_global_step_falls_back_to_the_tensor_named_global_step(engine_name):
    tf = engine(engine_name)

    def program(tf):
        tf.Variable(0, trainable=False, name="global_step")
        found = tf.train.get_global_step()
        w = tf.Variable(1.0, name="w")
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(w * w, global_step=found)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train_op)
            return found.name, sess.run(found)

    assert run_in_graph(tf, program) == ("global_step:0", 1)


# ------------------------------------------------------------------------------------------------
# Learning-rate schedules
# ------------------------------------------------------------------------------------------------


def _schedule_values(tf, build, steps):
    step = tf.placeholder(tf.int64, [], name="step")
    rate = build(tf, step)
    with tf.Session() as sess:
        return rate.op.name, rate.dtype.base_dtype.name, [sess.run(rate, {step: s}) for s in steps]


SCHEDULES = {
    # The caicloud MNIST program: decay_steps is mnist.train.num_examples / BATCH_SIZE, a float.
    "exponential_staircase_float_steps": lambda tf, s: tf.train.exponential_decay(0.8, s, 55000 / 100, 0.99,
                                                                                  staircase=True),
    "exponential_smooth": lambda tf, s: tf.train.exponential_decay(0.1, s, 7, 0.5),
    "exponential_named": lambda tf, s: tf.train.exponential_decay(0.1, s, 7, 0.5, staircase=True, name="lr"),
    "natural_exp": lambda tf, s: tf.train.natural_exp_decay(0.1, s, 5, 0.3, staircase=True),
    "inverse_time": lambda tf, s: tf.train.inverse_time_decay(0.1, s, 5, 0.3),
    "polynomial": lambda tf, s: tf.train.polynomial_decay(0.1, s, 1000, 0.01, power=2.0),
    "polynomial_cycle": lambda tf, s: tf.train.polynomial_decay(0.1, s, 300, 0.01, cycle=True),
    "piecewise_constant": lambda tf, s: tf.train.piecewise_constant(s, [100, 500], [1.0, 0.5, 0.1]),
    "piecewise_constant_one_boundary": lambda tf, s: tf.train.piecewise_constant(s, [7], [0.3, 0.2]),
}
SCHEDULE_STEPS = [0, 1, 6, 7, 99, 100, 101, 499, 500, 501, 549, 550, 551, 1099, 1100, 5000, 123456]


@pytest.mark.tensorflow
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_tensorflow(name):
    tf_real = require_tf()
    ours = run_in_graph(tfcore, _schedule_values, SCHEDULES[name], SCHEDULE_STEPS)
    theirs = run_in_graph(tf_real, _schedule_values, SCHEDULES[name], SCHEDULE_STEPS)
    assert ours[1] == theirs[1]
    # float32 pow with a large fractional exponent differs from TF's by a few ulp (5e-6 at 0.5 ** 71).
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, err_msg=name)
    if not name.startswith("piecewise"):
        assert ours[0] == theirs[0]


@pytest.mark.parametrize("engine_name", engines())
def test_exponential_decay_staircase_values(engine_name):
    tf = engine(engine_name)
    _, dtype, values = run_in_graph(tf, _schedule_values, SCHEDULES["exponential_staircase_float_steps"],
                                    [0, 549, 550, 1100, 1649])
    assert dtype == "float32"
    np.testing.assert_allclose(values, [0.8, 0.8, 0.8 * 0.99, 0.8 * 0.99 ** 2, 0.8 * 0.99 ** 2], rtol=1e-6)


@pytest.mark.parametrize("engine_name", engines())
def test_piecewise_constant_values_and_errors(engine_name):
    tf = engine(engine_name)
    _, _, values = run_in_graph(tf, _schedule_values, SCHEDULES["piecewise_constant"],
                                [0, 100, 101, 500, 501])
    np.testing.assert_allclose(values, [1.0, 1.0, 0.5, 0.5, 0.1])

    def errors(tf):
        step = tf.placeholder(tf.int32, [])
        with pytest.raises(ValueError):
            tf.train.piecewise_constant(step, [1, 2], [0.1, 0.2])
        with pytest.raises(ValueError):
            tf.train.piecewise_constant(step, [1.5], [0.1, 0.2])
        with pytest.raises(ValueError):
            tf.train.piecewise_constant(step, [1], [0.1, 2])

    run_in_graph(tf, errors)


# ------------------------------------------------------------------------------------------------
# Exponential moving averages
# ------------------------------------------------------------------------------------------------


def _ema_program(tf, num_updates, updates=5):
    """Average two variables while they move; return the shadows' names and values after each update."""
    v1 = tf.Variable(np.array([1.0, 2.0], np.float32), name="v1")
    with tf.variable_scope("scope"):
        v2 = tf.get_variable("v2", initializer=np.array(-3.0, np.float32))
    step = tf.Variable(0, trainable=False, name="step")
    ema = tf.train.ExponentialMovingAverage(0.99, num_updates=step if num_updates else None)
    average_op = ema.apply([v1, v2])
    move = tf.group(tf.assign_add(v1, [1.5, -0.5]), tf.assign(v2, v2 * 2.0 + 1.0), tf.assign_add(step, 3))
    shadows = [ema.average(v1), ema.average(v2)]
    history = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        history.append(sess.run(shadows))
        for _ in range(updates):
            sess.run(move)
            sess.run(average_op)
            history.append(sess.run(shadows))
    return {"names": [s.op.name for s in shadows],
            "average_names": [ema.average_name(v1), ema.average_name(v2)],
            "trainable": [v.op.name for v in tf.trainable_variables()],
            "moving": [v.op.name for v in tf.moving_average_variables()],
            "op": average_op.name, "history": history}


@pytest.mark.parametrize("engine_name", engines())
def test_ema_shadow_names_and_collections(engine_name):
    tf = engine(engine_name)
    result = run_in_graph(tf, _ema_program, True, updates=1)
    assert result["names"] == ["v1/ExponentialMovingAverage", "scope/v2/ExponentialMovingAverage"]
    assert result["average_names"] == result["names"]
    assert result["trainable"] == ["v1", "scope/v2"]
    assert result["moving"] == ["v1", "scope/v2"]
    assert result["op"] == "ExponentialMovingAverage"
    np.testing.assert_allclose(result["history"][0][0], [1.0, 2.0])  # shadows start at the initial value
    np.testing.assert_allclose(result["history"][0][1], -3.0)


@pytest.mark.parametrize("engine_name", engines())
def test_ema_effective_decay_with_num_updates(engine_name):
    tf = engine(engine_name)
    history = run_in_graph(tf, _ema_program, True, updates=2)["history"]
    # First update: step is 3, decay = min(0.99, 4 / 13); v1 moved from [1, 2] to [2.5, 1.5].
    decay = 4.0 / 13.0
    expected = np.array([1.0, 2.0]) - (1 - decay) * (np.array([1.0, 2.0]) - [2.5, 1.5])
    np.testing.assert_allclose(history[1][0], expected, rtol=1e-6)
    decay = 7.0 / 16.0
    expected = expected - (1 - decay) * (expected - [4.0, 1.0])
    np.testing.assert_allclose(history[2][0], expected, rtol=1e-6)


@pytest.mark.tensorflow
@pytest.mark.parametrize("num_updates", [False, True], ids=["fixed_decay", "num_updates"])
def test_ema_values_match_tensorflow(num_updates):
    tf_real = require_tf()
    ours = run_in_graph(tfcore, _ema_program, num_updates)
    theirs = run_in_graph(tf_real, _ema_program, num_updates)
    for key in ("names", "average_names", "trainable", "moving", "op"):
        assert ours[key] == theirs[key], key
    for a, b in zip(ours["history"], theirs["history"]):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-6)


@pytest.mark.parametrize("engine_name", engines())
def test_ema_of_a_tensor_starts_at_zero(engine_name):
    tf = engine(engine_name)

    def program(tf):
        x = tf.placeholder(tf.float32, [2], name="x")
        ema = tf.train.ExponentialMovingAverage(0.5)
        op = ema.apply([x])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            start = sess.run(ema.average(x))
            sess.run(op, {x: [2.0, 4.0]})
            return ema.average(x).op.name, start, sess.run(ema.average(x)), tf.moving_average_variables()

    name, start, after, moving = run_in_graph(tf, program)
    assert name == "x/ExponentialMovingAverage"
    np.testing.assert_array_equal(start, [0.0, 0.0])
    np.testing.assert_allclose(after, [1.0, 2.0])
    assert moving == []


def _mnist_style_program(tf):
    """The caicloud MNIST inference/train graph: two layers, global step, decay, EMA of trainables."""
    x = tf.placeholder(tf.float32, [None, 6], name="x-input")
    y_ = tf.placeholder(tf.float32, [None, 3], name="y-input")
    with tf.variable_scope("layer1"):
        weights = tf.get_variable("weights", initializer=np.full([6, 5], 0.1, np.float32))
        biases = tf.get_variable("biases", initializer=np.zeros([5], np.float32))
        layer1 = tf.matmul(x, weights) + biases
    with tf.variable_scope("layer2"):
        weights2 = tf.get_variable("weights", initializer=np.full([5, 3], -0.1, np.float32))
        biases2 = tf.get_variable("biases", initializer=np.zeros([3], np.float32))
        y = tf.matmul(layer1, weights2) + biases2
    global_step = tf.Variable(0, trainable=False)
    ema = tf.train.ExponentialMovingAverage(0.99, global_step)
    ema_op = ema.apply(tf.trainable_variables())
    loss = tf.reduce_mean((y - y_) * (y - y_))
    learning_rate = tf.train.exponential_decay(0.8, global_step, 55000 / 100, 0.99, staircase=True)
    train_step = tf.train.GradientDescentOptimizer(learning_rate).minimize(loss, global_step=global_step)
    with tf.control_dependencies([train_step, ema_op]):
        train_op = tf.no_op(name="train")
    to_restore = ema.variables_to_restore()
    feed = {x: np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6), y_: np.eye(4, 3, dtype=np.float32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert train_op.name == "train"
        for _ in range(3):
            # NOTE: inside train_op the order of the update and the averaging is not fixed (TF runs
            # them concurrently); run them one after the other so that both engines agree.
            sess.run(train_step, feed)
            step = sess.run([ema_op, global_step])[1]
        values = sess.run(to_restore)
    return {k: v.op.name for k, v in to_restore.items()}, values, step


@pytest.mark.tensorflow
def test_variables_to_restore_matches_tensorflow_for_the_mnist_graph():
    tf_real = require_tf()
    ours, our_values, our_step = run_in_graph(tfcore, _mnist_style_program)
    theirs, their_values, their_step = run_in_graph(tf_real, _mnist_style_program)
    assert ours == theirs
    assert ours["layer1/weights/ExponentialMovingAverage"] == "layer1/weights"
    assert ours["Variable"] == "Variable"
    assert our_step == their_step == 3
    for key in theirs:
        np.testing.assert_allclose(our_values[key], their_values[key], rtol=1e-5, err_msg=key)


@pytest.mark.parametrize("engine_name", engines())
def test_variables_to_restore_explicit_list(engine_name):
    tf = engine(engine_name)

    def program(tf):
        a = tf.Variable(1.0, name="a")
        b = tf.Variable(2.0, name="b")
        c = tf.Variable(3.0, name="c", trainable=False)
        ema = tf.train.ExponentialMovingAverage(0.9)
        ema.apply([a])
        return ({k: v.op.name for k, v in ema.variables_to_restore().items()},
                {k: v.op.name for k, v in ema.variables_to_restore([b]).items()},
                ema.average_name(c), ema.average(c))

    default, explicit, name_c, average_c = run_in_graph(tf, program)
    assert default == {"a/ExponentialMovingAverage": "a", "b/ExponentialMovingAverage": "b", "c": "c"}
    assert explicit == {"b/ExponentialMovingAverage": "b", "a": "a", "c": "c",
                        "a/ExponentialMovingAverage": "a/ExponentialMovingAverage"}
    assert name_c == "c/ExponentialMovingAverage"
    assert average_c is None


@pytest.mark.parametrize("engine_name", engines())
def test_ema_zero_debias_of_a_tensor(engine_name):
    tf = engine(engine_name)

    def program(tf):
        x = tf.placeholder(tf.float32, [2], name="x")
        ema = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
        op = ema.apply([x])
        names = [v.op.name for v in tf.global_variables()]
        history = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for value in ([2.0, 4.0], [0.0, 1.0], [3.0, 3.0]):
                sess.run(op, {x: value})
                history.append(sess.run(ema.average(x)))
        return names, history

    names, history = run_in_graph(tf, program)
    assert names == ["x/ExponentialMovingAverage", "x/ExponentialMovingAverage/biased",
                     "x/ExponentialMovingAverage/local_step"]
    # biased_t = 0.5 biased + 0.5 x; average = biased_t / (1 - 0.5^t)
    np.testing.assert_allclose(history, [[2.0, 4.0], [2.0 / 3.0, 2.0], [2.0, 18.0 / 7.0]], rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# Gradient options and errors
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine_name", engines())
def test_gate_graph_and_grad_loss(engine_name):
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(np.array([1.0, 2.0], np.float32), name="w")
        loss = w * w  # not a scalar: grad_loss weighs each element
        opt = tf.train.GradientDescentOptimizer(0.25)
        grads_and_vars = opt.compute_gradients(loss, gate_gradients=tf.train.Optimizer.GATE_GRAPH,
                                               grad_loss=tf.constant([1.0, -1.0]))
        train_op = opt.apply_gradients(grads_and_vars)
        with pytest.raises(ValueError, match="gate_gradients"):
            opt.compute_gradients(loss, gate_gradients=7)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            grad = sess.run(grads_and_vars[0][0])
            sess.run(train_op)
            return grad, sess.run(w)

    grad, w = run_in_graph(tf, program)
    np.testing.assert_allclose(grad, [2.0, -4.0])
    np.testing.assert_allclose(w, [0.5, 3.0])


@pytest.mark.parametrize("engine_name", engines())
def test_slots_created_after_the_initializer_are_uninitialized(engine_name):
    """The classic mistake: building the optimizer after global_variables_initializer()."""
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(1.0, name="w")
        init = tf.global_variables_initializer()
        train_op = tf.train.MomentumOptimizer(0.1, 0.9).minimize(w * w)
        with tf.Session() as sess:
            sess.run(init)
            with pytest.raises(tf.errors.FailedPreconditionError, match="w/Momentum"):
                sess.run(train_op)

    run_in_graph(tf, program)


@pytest.mark.parametrize("engine_name", engines())
def test_integer_losses_and_variables(engine_name):
    tf = engine(engine_name)

    def program(tf):
        w = tf.Variable(1.0, name="w")
        n = tf.Variable(3, name="n")
        opt = tf.train.GradientDescentOptimizer(0.1)
        with pytest.raises(ValueError, match="Invalid type"):
            opt.minimize(n * 2)
        # An integer variable gets no gradient (the cast stops it) and is skipped.
        grads_and_vars = opt.compute_gradients(tf.cast(n, tf.float32) * w, var_list=[w, n])
        assert grads_and_vars[1][0] is None
        opt.apply_gradients(grads_and_vars)

    run_in_graph(tf, program)


def _unknown_shape_program(tf, make):
    """A variable of unknown static shape (validate_shape=False): slots are sized at run time."""
    initial = tf.placeholder(tf.float32, [None], name="initial")
    w = tf.Variable(initial, validate_shape=False, name="w")
    grad = tf.placeholder(tf.float32, [None], name="grad")
    opt = make(tf)
    train_op = opt.apply_gradients([(grad, w)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer(), {initial: np.ones(3, np.float32)})
        for g in ([1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]):
            sess.run(train_op, {grad: np.array(g, np.float32)})
        return ([v.op.name for v in tf.global_variables()], sess.run(w), sess.run(opt.variables()),
                [v.get_shape().ndims for v in opt.variables()])


@pytest.mark.tensorflow
@pytest.mark.parametrize("name", ["adam", "rmsprop", "adagrad", "momentum"])
def test_unknown_shape_variables_match_tensorflow(name):
    tf_real = require_tf()
    make = {"adam": lambda tf: tf.train.AdamOptimizer(0.5),
            "rmsprop": lambda tf: tf.train.RMSPropOptimizer(0.5),
            "adagrad": lambda tf: tf.train.AdagradOptimizer(0.5),
            "momentum": lambda tf: tf.train.MomentumOptimizer(0.5, 0.5)}[name]
    ours = run_in_graph(tfcore, _unknown_shape_program, make)
    theirs = run_in_graph(tf_real, _unknown_shape_program, make)
    assert ours[0] == theirs[0] and ours[3] == theirs[3]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-6)
