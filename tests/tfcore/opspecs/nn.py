"""Op specs for the nn family: tfcore/ops/activation_ops.py, xent_ops.py, nn_ops.py and conv_ops.py
(tf.nn.*).

The convolution and pooling references below are written independently of the kernels: they loop
over output pixels (the kernels loop over kernel offsets), clip windows at the border instead of
padding (pooling), and get the backprop ops as the transposes of conv2d's matrices.
"""

import math

import numpy as np

from tests.tfcore.opspecs.spec import F, Fixed, OpSpec

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


# ------------------------------------------------------------------------------------------------
# NumPy references
# ------------------------------------------------------------------------------------------------


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _same_pads(size, k, stride, dilation=1):
    """Output size and the padding before, TF's SAME rule (the extra pixel after)."""
    k_eff = (k - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return out, total // 2


def _geometry(size, k, stride, padding, dilation=1):
    if padding == "SAME":
        return _same_pads(size, k, stride, dilation)
    return (size - (k - 1) * dilation - 1) // stride + 1, 0


def conv2d_ref(x, f, strides=(1, 1), padding="SAME", dilations=(1, 1)):
    """Direct convolution, one output pixel at a time."""
    n, h, w, c = x.shape
    kh, kw, _, o = f.shape
    oh, top = _geometry(h, kh, strides[0], padding, dilations[0])
    ow, left = _geometry(w, kw, strides[1], padding, dilations[1])
    out = np.zeros((n, oh, ow, o), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            for i in range(kh):
                for j in range(kw):
                    r = a * strides[0] - top + i * dilations[0]
                    s = b * strides[1] - left + j * dilations[1]
                    if 0 <= r < h and 0 <= s < w:
                        out[:, a, b, :] += x[:, r, s, :] @ f[i, j]
    return out


def _linear_map_matrix(fn, shape, dtype):
    """The matrix of the linear map `fn` on arrays of `shape` (columns: images of basis vectors)."""
    size = int(np.prod(shape))
    columns = []
    for k in range(size):
        e = np.zeros(size, dtype=dtype)
        e[k] = 1
        columns.append(fn(e.reshape(shape)).reshape(-1))
    return np.stack(columns, axis=1)


def conv2d_backprop_input_ref(input_sizes, f, dy, strides=(1, 1), padding="SAME", dilations=(1, 1)):
    """The transpose of conv2d as a linear map of its input, applied to dy."""
    m = _linear_map_matrix(lambda x: conv2d_ref(x, f, strides, padding, dilations), tuple(input_sizes),
                           dy.dtype)
    return (m.T @ dy.reshape(-1)).reshape(input_sizes).astype(dy.dtype)


def conv2d_backprop_filter_ref(x, filter_sizes, dy, strides=(1, 1), padding="SAME", dilations=(1, 1)):
    """The transpose of conv2d as a linear map of its filter, applied to dy."""
    m = _linear_map_matrix(lambda f: conv2d_ref(x, f, strides, padding, dilations), tuple(filter_sizes),
                           dy.dtype)
    return (m.T @ dy.reshape(-1)).reshape(filter_sizes).astype(dy.dtype)


def pool_ref(x, ksize, strides, padding, reduce):
    """Pooling over each window's real pixels (windows clipped at the border, never padded)."""
    n, h, w, c = x.shape
    oh, top = _geometry(h, ksize[0], strides[0], padding)
    ow, left = _geometry(w, ksize[1], strides[1], padding)
    out = np.zeros((n, oh, ow, c), dtype=x.dtype)
    for a in range(oh):
        for b in range(ow):
            r0, s0 = a * strides[0] - top, b * strides[1] - left
            window = x[:, max(r0, 0):min(r0 + ksize[0], h), max(s0, 0):min(s0 + ksize[1], w), :]
            out[:, a, b, :] = reduce(window, axis=(1, 2))
    return out


def sigmoid_xent_ref(z, x):
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def in_top_k_ref(predictions, targets, k):
    target_score = predictions[np.arange(len(targets)), targets]
    return (predictions > target_score[:, None]).sum(axis=1) < k


# ------------------------------------------------------------------------------------------------
# Specs
# ------------------------------------------------------------------------------------------------


def _conv(name, x_shape, f_shape, strides, padding, dilations=(1, 1), **kw):
    s4, d4 = [1, *strides, 1], [1, *dilations, 1]
    return OpSpec(
        f"conv2d/{name}",
        lambda tf, x, f: tf.nn.conv2d(x, f, strides=s4, padding=padding, dilations=d4),
        lambda x, f: conv2d_ref(x, f, strides, padding, dilations),
        [F(*x_shape), F(*f_shape)], **kw)


def _backprop_input(name, x_shape, f_shape, strides, padding, out_shape):
    s4 = [1, *strides, 1]
    return OpSpec(
        f"conv2d_backprop_input/{name}",
        lambda tf, f, dy: tf.nn.conv2d_backprop_input(list(x_shape), f, dy, s4, padding),
        lambda f, dy: conv2d_backprop_input_ref(x_shape, f, dy, strides, padding),
        [F(*f_shape), F(*out_shape)])


def _backprop_filter(name, x_shape, f_shape, strides, padding, out_shape):
    s4 = [1, *strides, 1]
    return OpSpec(
        f"conv2d_backprop_filter/{name}",
        lambda tf, x, dy: tf.nn.conv2d_backprop_filter(x, list(f_shape), dy, s4, padding),
        lambda x, dy: conv2d_backprop_filter_ref(x, f_shape, dy, strides, padding),
        [F(*x_shape), F(*out_shape)])


def _transpose(name, x_shape, f_shape, strides, padding, out_shape):
    # conv2d_transpose(value [out_shape], filter [kh, kw, C_x, C_out]) -> x_shape
    s4 = [1, *strides, 1]
    return OpSpec(
        f"conv2d_transpose/{name}",
        lambda tf, v, f: tf.nn.conv2d_transpose(v, f, list(x_shape), s4, padding),
        lambda v, f: conv2d_backprop_input_ref(x_shape, f, v, strides, padding),
        [F(*out_shape), F(*f_shape)])


def _pool(kind, name, x_shape, ksize, strides, padding):
    k4, s4 = [1, *ksize, 1], [1, *strides, 1]
    reduce = np.max if kind == "max_pool" else np.mean
    return OpSpec(
        f"{kind}/{name}",
        lambda tf, x: getattr(tf.nn, kind)(x, ksize=k4, strides=s4, padding=padding),
        lambda x: pool_ref(x, ksize, strides, padding, reduce),
        [F(*x_shape, kind="distinct")])


def _second(name, build, inputs):
    """The gradient of build(x), weighted by g: its own gradient goes through the op's gradient ops."""
    return OpSpec(f"{name}/grad_of_grad", lambda tf, x, g: tf.gradients(build(tf, x), x, grad_ys=g)[0],
                  None, inputs)


ONEHOT = np.eye(3)[[0, 2, 1, 2]]
SOFT_LABELS = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
SPARSE_LABELS = np.array([0, 2, 1, 2], dtype=np.int32)
_RNG = np.random.default_rng(7)  # values of Fixed float inputs

SPECS = [
    # --- activations (inputs away from the kinks) ---
    OpSpec("relu", lambda tf, x: tf.nn.relu(x), lambda x: np.maximum(x, 0), [F(3, 4, kind="away")]),
    OpSpec("relu6", lambda tf, x: tf.nn.relu6(x), lambda x: np.clip(x, 0, 6),
           [F(3, 4, kind="uniform", low=-3, high=9)]),
    OpSpec("leaky_relu/default", lambda tf, x: tf.nn.leaky_relu(x), lambda x: np.where(x > 0, x, 0.2 * x),
           [F(3, 4, kind="away")]),
    OpSpec("leaky_relu/alpha0.01", lambda tf, x: tf.nn.leaky_relu(x, alpha=0.01),
           lambda x: np.where(x > 0, x, 0.01 * x), [F(3, 4, kind="away")]),
    OpSpec("elu", lambda tf, x: tf.nn.elu(x), lambda x: np.where(x > 0, x, np.expm1(x)),
           [F(3, 4, kind="away")]),
    OpSpec("selu", lambda tf, x: tf.nn.selu(x),
           lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), [F(3, 4, kind="away")]),
    OpSpec("softplus", lambda tf, x: tf.nn.softplus(x), lambda x: np.log1p(np.exp(x)),
           [F(3, 4, kind="uniform", low=-5, high=5)]),
    OpSpec("softsign", lambda tf, x: tf.nn.softsign(x), lambda x: x / (1 + np.abs(x)),
           [F(3, 4, kind="away")]),
    OpSpec("softmax/last", lambda tf, x: tf.nn.softmax(x), _softmax, [F(3, 4)]),
    OpSpec("softmax/axis0", lambda tf, x: tf.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), [F(3, 4)]),
    OpSpec("softmax/dim1_rank3", lambda tf, x: tf.nn.softmax(x, dim=1), lambda x: _softmax(x, 1),
           [F(2, 3, 4)]),
    OpSpec("log_softmax/last", lambda tf, x: tf.nn.log_softmax(x), _log_softmax, [F(3, 4)]),
    OpSpec("log_softmax/axis0", lambda tf, x: tf.nn.log_softmax(x, axis=0), lambda x: _log_softmax(x, 0),
           [F(3, 4)]),
    # --- bias_add, l2_loss, xw_plus_b ---
    OpSpec("bias_add/rank2", lambda tf, x, b: tf.nn.bias_add(x, b), np.add, [F(3, 4), F(4)]),
    OpSpec("bias_add/nhwc", lambda tf, x, b: tf.nn.bias_add(x, b), np.add, [F(2, 3, 2, 4), F(4)]),
    OpSpec("bias_add/nchw", lambda tf, x, b: tf.nn.bias_add(x, b, data_format="NCHW"),
           lambda x, b: x + b[:, None, None], [F(2, 4, 2, 3), F(4)]),
    OpSpec("l2_loss", lambda tf, x: tf.nn.l2_loss(x), lambda x: np.sum(x * x) / 2, [F(3, 4)]),
    OpSpec("xw_plus_b", lambda tf, x, w, b: tf.nn.xw_plus_b(x, w, b), lambda x, w, b: x @ w + b,
           [F(3, 4), F(4, 2), F(2)]),
    OpSpec("l2_normalize/axis1", lambda tf, x: tf.nn.l2_normalize(x, axis=1),
           lambda x: x / np.sqrt((x * x).sum(1, keepdims=True)), [F(3, 4)]),
    OpSpec("l2_normalize/all_dim", lambda tf, x: tf.nn.l2_normalize(x, dim=[0, 1]),
           lambda x: x / np.sqrt((x * x).sum()), [F(3, 4)]),
    OpSpec("moments/axes01", lambda tf, x: list(tf.nn.moments(x, [0, 1])),
           lambda x: [x.mean((0, 1)), x.var((0, 1))], [F(2, 3, 4)]),
    OpSpec("moments/keep_dims", lambda tf, x: list(tf.nn.moments(x, [1], keep_dims=True)),
           lambda x: [x.mean(1, keepdims=True), x.var(1, keepdims=True)], [F(3, 4)]),
    OpSpec("embedding_lookup", lambda tf, p, i: tf.nn.embedding_lookup(p * 1.0, i), lambda p, i: p[i],
           [F(5, 3), Fixed(np.array([[0, 4], [2, 2]], np.int32))]),  # p * 1.0: TF's gradient is dense then
    OpSpec("embedding_lookup/list_of_one", lambda tf, p: tf.nn.embedding_lookup([p * 1.0], [3, 1]),
           lambda p: p[[3, 1]], [F(4, 2)]),
    # --- cross-entropy on logits ---
    OpSpec("softmax_cross_entropy_with_logits/onehot",
           lambda tf, z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: -(z * _log_softmax(x)).sum(-1), [Fixed(ONEHOT), F(4, 3)]),
    OpSpec("softmax_cross_entropy_with_logits/soft_labels",
           lambda tf, z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: -(z * _log_softmax(x)).sum(-1), [Fixed(SOFT_LABELS), F(4, 3)]),
    OpSpec("softmax_cross_entropy_with_logits/rank3",
           lambda tf, z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: -(z * _log_softmax(x)).sum(-1), [Fixed(SOFT_LABELS.reshape(2, 2, 3)), F(2, 2, 3)]),
    OpSpec("softmax_cross_entropy_with_logits/dim0",
           lambda tf, z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, dim=0),
           lambda z, x: -(z * _log_softmax(x, 0)).sum(0), [Fixed(SOFT_LABELS.T), F(3, 4)]),
    # Labels normalised in the graph: the fused gradient softmax - labels assumes rows summing to 1.
    OpSpec("softmax_cross_entropy_with_logits_v2/label_grad",
           lambda tf, z, x: tf.nn.softmax_cross_entropy_with_logits_v2(
               labels=z / tf.reduce_sum(z, 1, keepdims=True), logits=x),
           lambda z, x: -(z / z.sum(1, keepdims=True) * _log_softmax(x)).sum(-1),
           [F(4, 3, kind="positive"), F(4, 3)]),
    OpSpec("sparse_softmax_cross_entropy_with_logits",
           lambda tf, z, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: -_log_softmax(x)[np.arange(4), z], [Fixed(SPARSE_LABELS), F(4, 3)]),
    OpSpec("sparse_softmax_cross_entropy_with_logits/int64_rank2",
           lambda tf, z, x: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
           lambda z, x: -np.take_along_axis(_log_softmax(x), z[..., None], -1)[..., 0],
           [Fixed(SPARSE_LABELS.reshape(2, 2).astype(np.int64)), F(2, 2, 3)]),
    OpSpec("sigmoid_cross_entropy_with_logits",
           lambda tf, z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           sigmoid_xent_ref, [Fixed(SOFT_LABELS), F(4, 3, kind="away")]),
    OpSpec("sigmoid_cross_entropy_with_logits/label_grad",
           lambda tf, z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
           sigmoid_xent_ref, [F(4, 3, kind="uniform", low=0, high=1), F(4, 3, kind="away")]),
    # --- in_top_k (ties: row 1 has the target tied for the top) ---
    OpSpec("in_top_k/k1", lambda tf, p, t: tf.nn.in_top_k(p, t, 1), lambda p, t: in_top_k_ref(p, t, 1),
           [Fixed(np.array([[0.1, 0.8, 0.1], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], np.float32)),
            Fixed(np.array([1, 1, 0], np.int32))], grad=False, dtypes=("float32",)),
    OpSpec("in_top_k/k2", lambda tf, p, t: tf.nn.in_top_k(p, t, 2), lambda p, t: in_top_k_ref(p, t, 2),
           [Fixed(np.array([[0.1, 0.8, 0.1], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], np.float32)),
            Fixed(np.array([0, 2, 0], np.int32))], grad=False, dtypes=("float32",)),
    # --- conv2d: paddings, strides, odd/even and rectangular sizes ---
    _conv("same_stride1", (1, 5, 5, 2), (3, 3, 2, 3), (1, 1), "SAME"),
    _conv("valid_stride1", (1, 5, 5, 2), (3, 3, 2, 3), (1, 1), "VALID"),
    _conv("same_stride2_odd", (1, 5, 5, 2), (3, 3, 2, 3), (2, 2), "SAME"),
    _conv("valid_stride2_odd", (1, 5, 5, 2), (3, 3, 2, 3), (2, 2), "VALID"),
    _conv("same_stride2_even", (2, 4, 4, 1), (2, 2, 1, 2), (2, 2), "SAME"),
    _conv("same_even_kernel", (1, 4, 5, 2), (2, 2, 2, 2), (1, 1), "SAME"),
    _conv("same_rect_kernel", (1, 4, 6, 2), (3, 2, 2, 2), (1, 2), "SAME"),
    _conv("valid_rect_stride", (1, 6, 5, 1), (2, 3, 1, 3), (2, 1), "VALID"),
    _conv("same_stride3_1x1", (2, 5, 4, 3), (1, 1, 3, 2), (3, 3), "SAME"),
    # TF's CPU kernels lack float64 dilated backprop: dilations are checked against NumPy only.
    _conv("same_dilated", (1, 5, 5, 2), (2, 2, 2, 2), (1, 1), "SAME", dilations=(2, 2), tf=False),
    _conv("valid_dilated_rect", (1, 6, 5, 1), (2, 2, 1, 2), (1, 1), "VALID", dilations=(2, 1), tf=False),
    _conv("same_dilated_stride2_float32", (1, 5, 5, 2), (2, 2, 2, 2), (2, 2), "SAME", dilations=(2, 2),
          dtypes=("float32",)),
    OpSpec("conv2d/explicit_padding",
           lambda tf, x, f: tf.nn.conv2d(x, f, [1, 1, 1, 1], [[0, 0], [1, 0], [2, 1], [0, 0]]),
           lambda x, f: conv2d_ref(np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0))), f, padding="VALID"),
           [F(1, 4, 4, 2), F(3, 3, 2, 2)]),
    _backprop_input("same_stride1", (1, 5, 5, 2), (3, 3, 2, 3), (1, 1), "SAME", (1, 5, 5, 3)),
    _backprop_input("same_stride2", (1, 5, 5, 2), (3, 3, 2, 3), (2, 2), "SAME", (1, 3, 3, 3)),
    _backprop_input("valid_stride2_uncovered", (1, 6, 6, 1), (3, 3, 1, 2), (2, 2), "VALID", (1, 2, 2, 2)),
    _backprop_filter("same_stride1", (1, 5, 5, 2), (3, 3, 2, 3), (1, 1), "SAME", (1, 5, 5, 3)),
    _backprop_filter("valid_stride2", (1, 5, 5, 2), (3, 3, 2, 3), (2, 2), "VALID", (1, 2, 2, 3)),
    _backprop_filter("same_rect", (2, 4, 3, 1), (2, 3, 1, 2), (2, 1), "SAME", (2, 2, 3, 2)),
    _transpose("same_stride2", (1, 6, 6, 2), (3, 3, 2, 3), (2, 2), "SAME", (1, 3, 3, 3)),
    _transpose("same_stride2_odd", (1, 5, 5, 2), (3, 3, 2, 3), (2, 2), "SAME", (1, 3, 3, 3)),
    _transpose("valid_stride2", (1, 7, 7, 1), (3, 3, 1, 2), (2, 2), "VALID", (1, 3, 3, 2)),
    _transpose("same_stride1", (2, 4, 4, 2), (2, 2, 2, 2), (1, 1), "SAME", (2, 4, 4, 2)),
    # --- pooling ---
    _pool("max_pool", "valid_2x2_stride2", (1, 4, 4, 2), (2, 2), (2, 2), "VALID"),
    _pool("max_pool", "same_2x2_stride2_odd", (1, 5, 5, 2), (2, 2), (2, 2), "SAME"),
    _pool("max_pool", "same_3x3_stride1", (1, 4, 4, 2), (3, 3), (1, 1), "SAME"),
    _pool("max_pool", "valid_3x2_stride_2x1", (2, 5, 4, 1), (3, 2), (2, 1), "VALID"),
    _pool("max_pool", "same_3x3_stride2_overlap", (1, 5, 6, 1), (3, 3), (2, 2), "SAME"),
    _pool("avg_pool", "valid_2x2_stride2", (1, 4, 4, 2), (2, 2), (2, 2), "VALID"),
    _pool("avg_pool", "same_2x2_stride2_odd", (1, 5, 5, 2), (2, 2), (2, 2), "SAME"),
    _pool("avg_pool", "same_3x3_stride1", (1, 4, 4, 2), (3, 3), (1, 1), "SAME"),
    _pool("avg_pool", "valid_3x2_stride_2x1", (2, 5, 4, 1), (3, 2), (2, 1), "VALID"),
    _pool("avg_pool", "same_3x3_stride2_overlap", (1, 5, 6, 1), (3, 3), (2, 2), "SAME"),
    # --- second derivatives: gradients (weighted by g) of the gradients, through the *Grad ops ---
    _second("max_pool", lambda tf, x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 1, 1, 1], "VALID"),
            [F(1, 3, 3, 1, kind="distinct"), F(1, 2, 2, 1)]),
    # (AvgPoolGrad reads only x's shape: x is fixed, the check is on g)
    _second("avg_pool", lambda tf, x: tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
            [Fixed(_RNG.standard_normal((1, 3, 3, 1))), F(1, 2, 2, 1)]),
    OpSpec("conv2d/grad_of_grad",
           lambda tf, x, f, g: tf.gradients(tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME"), [x, f], grad_ys=g),
           None, [F(1, 3, 3, 1), F(2, 2, 1, 2), F(1, 2, 2, 2)]),
    OpSpec("conv2d_transpose/grad_of_grad",
           lambda tf, v, f, g: tf.gradients(tf.nn.conv2d_transpose(v, f, [1, 4, 4, 1], [1, 2, 2, 1]), [v, f],
                                            grad_ys=g),
           None, [F(1, 2, 2, 2), F(2, 2, 1, 2), F(1, 4, 4, 1)]),
    _second("relu", lambda tf, x: tf.nn.relu(x), [F(3, 2, kind="away"), F(3, 2)]),
    _second("leaky_relu", lambda tf, x: tf.nn.leaky_relu(x), [F(3, 2, kind="away"), F(3, 2)]),
    _second("relu6", lambda tf, x: tf.nn.relu6(x), [F(3, 2, kind="uniform", low=0.5, high=5.5), F(3, 2)]),
    _second("elu", lambda tf, x: tf.nn.elu(x), [F(3, 2, kind="away"), F(3, 2)]),
    _second("selu", lambda tf, x: tf.nn.selu(x), [F(3, 2, kind="away"), F(3, 2)]),
    _second("softplus", lambda tf, x: tf.nn.softplus(x), [F(3, 2), F(3, 2)]),
    _second("softmax", lambda tf, x: tf.nn.softmax(x), [F(2, 3), F(2, 3)]),
    _second("log_softmax", lambda tf, x: tf.nn.log_softmax(x), [F(2, 3), F(2, 3)]),
    # (BiasAddGrad reads neither x nor b: both fixed, the check is on g)
    OpSpec("bias_add/grad_of_grad",
           lambda tf, x, b, g: tf.gradients(tf.nn.bias_add(x, b), b, grad_ys=g)[0], None,
           [Fixed(_RNG.standard_normal((2, 3))), Fixed(_RNG.standard_normal(3)), F(2, 3)]),
    OpSpec("softmax_cross_entropy_with_logits/grad_of_grad",
           lambda tf, z, x: tf.gradients(
               tf.nn.softmax_cross_entropy_with_logits_v2(labels=z, logits=x), x)[0],
           None, [Fixed(SOFT_LABELS), F(4, 3)]),
]
