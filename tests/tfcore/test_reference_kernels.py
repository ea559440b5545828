"""A session asked for reference kernels runs them, and gets the default session's values.

A LeNet-like graph (conv2d SAME, relu, max_pool, conv2d VALID, avg_pool, and the gradients of a loss
with respect to the input and both filters) runs in a default session and in one made with
`tf.ConfigProto(reference_kernels=True)`, on each device (the `device` fixture of conftest.py; TEST
checks the reference kernels against CuPy's rules). The two agree to float32 rounding, and counting
the calls of each conv/pool op's fast kernel (its OpDef's `fast_kernels` entry) and reference
kernel (`OpDef.kernel`) shows which ran: the default session runs the fast kernels of conv_fast.py,
the reference session none of them.
"""

import numpy as np
import pytest

import tfcore as tf
from tfcore.framework.registry import OpDef, get_op_def
from tfcore.ops import conv_fast

# The conv/pool ops the graph below runs, forward and backward.
LENET_OPS = {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPool", "MaxPoolGrad",
             "AvgPool", "AvgPoolGrad"}


def _kind(device):
    """"CPU", "GPU" or "TEST" from a canonical device name."""
    return device.split(":")[-2]


@pytest.fixture
def kernel_calls(monkeypatch, device):
    """(which, op type) for each call of a conv/pool kernel, which being "fast" or "reference", and
    the `reference` flag of every kernel choice the plans make."""
    calls, choices = [], []

    def counting(which, op_type, kernel):
        def kernel_counted(ctx, *args, **attrs):
            calls.append((which, op_type))
            return kernel(ctx, *args, **attrs)
        return kernel_counted

    for op_type in conv_fast.FAST_KERNELS:
        op_def = get_op_def(op_type)
        kind = _kind(device)
        monkeypatch.setitem(op_def.fast_kernels, kind, counting("fast", op_type, op_def.fast_kernels[kind]))
        monkeypatch.setattr(op_def, "kernel", counting("reference", op_type, op_def.kernel))
    kernel_for = OpDef.kernel_for

    def recording(self, device_kind, reference=False):
        choices.append(reference)
        return kernel_for(self, device_kind, reference)

    monkeypatch.setattr(OpDef, "kernel_for", recording)
    return calls, choices


def _lenet(device, config):
    """The loss, its gradients with respect to the images and both filters, and the pooled features."""
    rng = np.random.default_rng(11)
    images = rng.standard_normal((3, 12, 12, 2)).astype(np.float32)
    with tf.Graph().as_default(), tf.device(device):
        x = tf.placeholder(tf.float32, images.shape, name="x")
        w1 = tf.Variable(rng.standard_normal((5, 5, 2, 4)).astype(np.float32) * 0.3, name="w1")
        w2 = tf.Variable(rng.standard_normal((3, 3, 4, 6)).astype(np.float32) * 0.3, name="w2")
        h = tf.nn.relu(tf.nn.conv2d(x, w1, strides=[1, 1, 1, 1], padding="SAME"))
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
        h = tf.nn.conv2d(h, w2, strides=[1, 1, 1, 1], padding="VALID")
        features = tf.nn.avg_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
        loss = tf.reduce_mean(tf.square(features - 0.5))
        grads = tf.gradients(loss, [x, w1, w2])
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run([loss, *grads, features], {x: images})
            return values, sess._state.reference_kernels


def test_reference_session_runs_reference_kernels_and_agrees(device, kernel_calls):
    calls, choices = kernel_calls
    fast, fast_flag = _lenet(device, None)
    assert fast_flag is False and not any(choices)
    assert {op for which, op in calls if which == "fast"} == LENET_OPS
    assert not [op for which, op in calls if which == "reference"]

    calls.clear()
    choices.clear()
    reference, reference_flag = _lenet(device, tf.ConfigProto(reference_kernels=True))
    assert reference_flag is True and choices and all(choices)
    assert {op for which, op in calls if which == "reference"} == LENET_OPS
    assert not [op for which, op in calls if which == "fast"]

    for name, a, b in zip(["loss", "d loss/dx", "d loss/dw1", "d loss/dw2", "features"], fast, reference):
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=name)
    assert np.abs(reference[1]).max() > 0 and np.abs(reference[3]).max() > 0  # gradients reach the input

