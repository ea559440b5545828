"""The fast convolution and pooling kernels give the values of straightforward references, and of
tfcore's reference kernels.

The kernels in tfcore/ops/conv_fast.py take shortcuts for speed: im2col in pieces with one matrix
product each, the stride-1 input gradient as a transposed convolution (another im2col), the other
input gradients as strided adds, a max-pool gradient that writes each pixel once when the windows
tile the image. The references here take none: they loop over kernel offsets (or windows) and do the
arithmetic of the definition. They check the fast kernels and the reference kernels of the op blocks
(tfcore/ops/conv_ops.py), and every fast kernel is also checked against its reference kernel. Each
case also checks which path the fast kernel takes, so a case cannot silently stop covering its
shortcut, and that float32 stays float32.
"""

import numpy as np
import pytest

from tests.tfcore.harness import require_tf, run_in_graph
from tfcore.framework.registry import KernelContext, get_op_def
from tfcore.ops import conv_fast, conv_ops, nn_ops

# ------------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------------


def _pads(size, k, stride, dilation, padding, explicit=(0, 0)):
    """(output size, padding before, padding after) by TF's rules, written out again."""
    k_eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + k_eff - size, 0)
        return out, total // 2, total - total // 2
    before, after = explicit if padding == "EXPLICIT" else (0, 0)
    return (size + before + after - k_eff) // stride + 1, before, after


class Geometry:
    """One convolution's geometry: x [n, h, w, c], filter [kh, kw, c, o], strides, dilations, padding."""

    def __init__(self, x_shape, f_shape, strides=(1, 1), padding="SAME", dilations=(1, 1), explicit=None):
        self.x_shape, self.f_shape = x_shape, f_shape
        self.strides, self.dilations, self.padding = strides, dilations, padding
        explicit = explicit or [[0, 0], [0, 0]]
        n, h, w, _ = x_shape
        kh, kw, _, o = f_shape
        self.oh, self.top, self.bottom = _pads(h, kh, strides[0], dilations[0], padding, explicit[0])
        self.ow, self.left, self.right = _pads(w, kw, strides[1], dilations[1], padding, explicit[1])
        self.y_shape = (n, self.oh, self.ow, o)
        self.attrs = {"strides": [1, *strides, 1], "dilations": [1, *dilations, 1], "padding": padding,
                      "explicit_paddings": [0, 0, *explicit[0], *explicit[1], 0, 0] if padding == "EXPLICIT"
                      else [], "data_format": "NHWC"}

    def offsets(self):
        """For each kernel offset (i, j): the rows and columns of the padded image it reads."""
        (sh, sw), (dh, dw) = self.strides, self.dilations
        for i in range(self.f_shape[0]):
            for j in range(self.f_shape[1]):
                yield i, j, slice(i * dh, i * dh + (self.oh - 1) * sh + 1, sh), \
                    slice(j * dw, j * dw + (self.ow - 1) * sw + 1, sw)

    def padded_zeros(self, channels, dtype):
        n, h, w, _ = self.x_shape
        return np.zeros((n, h + self.top + self.bottom, w + self.left + self.right, channels), dtype)

    def inner(self, padded):
        n, h, w, _ = self.x_shape
        return padded[:, self.top:self.top + h, self.left:self.left + w]


def conv_ref(geo, x, f):
    padded = geo.padded_zeros(x.shape[3], x.dtype)
    geo.inner(padded)[...] = x
    y = np.zeros(geo.y_shape, x.dtype)
    for i, j, rows, cols in geo.offsets():
        y += np.einsum("nhwc,co->nhwo", padded[:, rows, cols], f[i, j])
    return y


def backprop_input_ref(geo, f, dy):
    dx = geo.padded_zeros(f.shape[2], dy.dtype)
    for i, j, rows, cols in geo.offsets():
        dx[:, rows, cols] += np.einsum("nhwo,co->nhwc", dy, f[i, j])
    return geo.inner(dx)


def backprop_filter_ref(geo, x, dy):
    padded = geo.padded_zeros(x.shape[3], x.dtype)
    geo.inner(padded)[...] = x
    df = np.zeros(geo.f_shape, x.dtype)
    for i, j, rows, cols in geo.offsets():
        df[i, j] = np.einsum("nhwc,nhwo->co", padded[:, rows, cols], dy)
    return df


def max_pool_refs(x, ksize, strides, padding, dy):
    """Max pooling and its gradient window by window: the gradient goes to the window's first maximum
    in row-major order (TF's rule on ties); padding never wins."""
    n, h, w, c = x.shape
    oh, top, _ = _pads(h, ksize[0], strides[0], 1, padding)
    ow, left, _ = _pads(w, ksize[1], strides[1], 1, padding)
    pooled = np.zeros((n, oh, ow, c), x.dtype)
    dx = np.zeros_like(x)
    for a in range(oh):
        for b in range(ow):
            r0, s0 = a * strides[0] - top, b * strides[1] - left
            r1, s1 = min(r0 + ksize[0], h), min(s0 + ksize[1], w)
            r0, s0 = max(r0, 0), max(s0, 0)
            window = x[:, r0:r1, s0:s1].reshape(n, -1, c)
            first = window.argmax(axis=1)  # argmax: the first maximum
            pooled[:, a, b] = window.max(axis=1)
            for m in range(n):
                for ch in range(c):
                    r, s = divmod(int(first[m, ch]), s1 - s0)
                    dx[m, r0 + r, s0 + s, ch] += dy[m, a, b, ch]
    return pooled, dx


# The kernels under test: the fast ones, and the reference ones of the op blocks, which the
# definitions above check too.
KERNELS = [pytest.param(conv_fast, id="fast"), pytest.param(conv_ops, id="reference")]


def _ctx():
    return KernelContext(np)


def test_the_fast_kernels_are_registered_for_the_cpu_and_the_gpu():
    for op_type, kernel in conv_fast.FAST_KERNELS.items():
        op_def = get_op_def(op_type)
        assert op_def.fast_kernels["CPU"] is op_def.fast_kernels["GPU"] is kernel
        assert op_def.kernel is getattr(conv_ops, kernel.__name__) is not kernel
        assert op_def.kernel_for("CPU") is kernel
        assert op_def.kernel_for("CPU", reference=True) is op_def.kernel


# ------------------------------------------------------------------------------------------------
# Convolutions
# ------------------------------------------------------------------------------------------------

CONV_CASES = {
    # name: (x shape, filter shape, strides, padding, dilations, explicit padding)
    "lenet_like_same": ((2, 9, 9, 3), (5, 5, 3, 4), (1, 1), "SAME", (1, 1), None),
    "odd_sizes_valid": ((1, 7, 6, 2), (3, 2, 2, 3), (1, 1), "VALID", (1, 1), None),
    "even_kernel_same": ((2, 6, 5, 2), (2, 4, 2, 3), (1, 1), "SAME", (1, 1), None),
    "one_by_one": ((2, 5, 4, 3), (1, 1, 3, 2), (1, 1), "SAME", (1, 1), None),
    "dilated_same": ((1, 9, 8, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 3), None),
    "explicit_small": ((1, 6, 7, 2), (3, 3, 2, 3), (1, 1), "EXPLICIT", (1, 1), [[1, 0], [2, 1]]),
    "kernel_as_large_as_image": ((1, 4, 5, 1), (4, 5, 1, 2), (1, 1), "SAME", (1, 1), None),
    # these take the strided-add input gradient
    "many_output_channels": ((2, 6, 7, 1), (3, 3, 1, 5), (1, 1), "SAME", (1, 1), None),
    "strided_same_odd": ((2, 9, 7, 2), (3, 3, 2, 3), (2, 3), "SAME", (1, 1), None),
    "strided_valid_remainder": ((1, 10, 9, 2), (3, 2, 2, 2), (3, 2), "VALID", (1, 1), None),
    "explicit_wider_than_kernel": ((1, 5, 5, 2), (3, 3, 2, 2), (1, 1), "EXPLICIT", (1, 1), [[4, 3], [0, 5]]),
}


def _conv_case(name, dtype):
    x_shape, f_shape, strides, padding, dilations, explicit = CONV_CASES[name]
    geo = Geometry(x_shape, f_shape, strides, padding, dilations, explicit)
    rng = np.random.default_rng(sum(map(ord, name)))
    x = rng.standard_normal(x_shape).astype(dtype)
    f = rng.standard_normal(f_shape).astype(dtype)
    dy = rng.standard_normal(geo.y_shape).astype(dtype)
    return geo, x, f, dy


def _convolutions(kernels, geo, x, f, dy):
    """conv2d, its input gradient and its filter gradient by the kernels of module `kernels`."""
    return [kernels._conv2d_kernel(_ctx(), x, f, **geo.attrs),
            kernels._conv2d_backprop_input_kernel(_ctx(), np.array(x.shape), f, dy, **geo.attrs),
            kernels._conv2d_backprop_filter_kernel(_ctx(), x, np.array(f.shape), dy, **geo.attrs)]


def _tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CONV_CASES)
def test_convolution_kernels_match_the_definition(name, dtype, kernels):
    geo, x, f, dy = _conv_case(name, dtype)
    wanted = [conv_ref(geo, x, f), backprop_input_ref(geo, f, dy), backprop_filter_ref(geo, x, dy)]
    for got, want in zip(_convolutions(kernels, geo, x, f, dy), wanted):
        assert got.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CONV_CASES)
def test_fast_convolution_kernels_match_the_reference_kernels(name, dtype):
    geo, x, f, dy = _conv_case(name, dtype)
    fast_results = _convolutions(conv_fast, geo, x, f, dy)
    for fast, reference in zip(fast_results, _convolutions(conv_ops, geo, x, f, dy)):
        assert fast.dtype == reference.dtype == dtype and fast.shape == reference.shape
        np.testing.assert_allclose(fast, reference, **_tolerance(dtype))


# Where the input gradient is a transposed convolution (stride 1, padding within the kernel's span,
# at most twice as many output channels as input channels); elsewhere it adds through strided views.
TRANSPOSED = {"lenet_like_same", "odd_sizes_valid", "even_kernel_same", "one_by_one", "dilated_same",
              "explicit_small", "kernel_as_large_as_image"}


@pytest.mark.parametrize("name", CONV_CASES)
def test_the_input_gradient_takes_the_transposed_convolution_where_expected(monkeypatch, name):
    geo, x, f, dy = _conv_case(name, np.float64)
    calls = []
    im2col_matmul = conv_fast._im2col_matmul
    monkeypatch.setattr(conv_fast, "_im2col_matmul", lambda *args: calls.append(1) or im2col_matmul(*args))
    conv_fast._conv2d_backprop_input_kernel(_ctx(), np.array(x.shape), f, dy, **geo.attrs)
    assert bool(calls) == (name in TRANSPOSED)


@pytest.mark.parametrize("piece_bytes", [1, 300, 5000, 10**9])  # a row, a few rows, images, everything
def test_pieces_do_not_change_the_float32_results(monkeypatch, piece_bytes):
    geo, x, f, dy = _conv_case("lenet_like_same", np.float32)
    wanted = [conv_ref(geo, x, f), backprop_input_ref(geo, f, dy), backprop_filter_ref(geo, x, dy)]
    monkeypatch.setattr(conv_fast, "IM2COL_PIECE_BYTES", piece_bytes)
    for g, w in zip(_convolutions(conv_fast, geo, x, f, dy), wanted):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernels", KERNELS)
def test_inputs_are_left_untouched(kernels):
    geo, x, f, dy = _conv_case("strided_same_odd", np.float32)
    copies = [x.copy(), f.copy(), dy.copy()]
    _convolutions(kernels, geo, x, f, dy)
    for before, after in zip(copies, [x, f, dy]):
        np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------------------------------------------
# Pooling
# ------------------------------------------------------------------------------------------------

POOL_CASES = {
    # name: (x shape, ksize, strides, padding, windows tile the image)
    "2x2_same_even": ((2, 6, 8, 3), (2, 2), (2, 2), "SAME", True),
    "2x2_same_odd": ((1, 5, 7, 2), (2, 2), (2, 2), "SAME", True),
    "2x2_valid_remainder": ((2, 5, 7, 2), (2, 2), (2, 2), "VALID", True),
    "3x3_same_odd_top_pad": ((1, 7, 8, 2), (3, 3), (3, 3), "SAME", True),
    "3x2_valid": ((1, 7, 6, 1), (3, 2), (3, 2), "VALID", True),
    "3x3_stride2_overlap": ((1, 7, 6, 2), (3, 3), (2, 2), "SAME", False),
    "2x2_stride1": ((2, 4, 5, 2), (2, 2), (1, 1), "VALID", False),
    "2x2_stride3_gaps": ((1, 8, 7, 2), (2, 2), (3, 3), "VALID", False),
}


def _tie_heavy(shape, seed):
    """float32 values with many ties: small integers, and a ReLU's zeros on most negative draws."""
    rng = np.random.default_rng(seed)
    return np.maximum(rng.integers(-3, 3, size=shape), 0).astype(np.float32)


def _pool_case(name, values):
    x_shape, ksize, strides, padding, _ = POOL_CASES[name]
    rng = np.random.default_rng(7)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape).astype(np.float32) if values == "distinct" \
        else _tie_heavy(x_shape, 7)
    attrs = {"ksize": [1, *ksize, 1], "strides": [1, *strides, 1], "padding": padding, "data_format": "NHWC"}
    return x, attrs, rng


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("values", ["distinct", "ties"])
@pytest.mark.parametrize("name", POOL_CASES)
def test_max_pool_and_its_gradient_match_the_definition(name, values, kernels):
    x, attrs, rng = _pool_case(name, values)
    _, ksize, strides, padding, tiles = POOL_CASES[name]
    assert conv_fast.FastWindows.for_pool(x.shape, **attrs).tile() == tiles
    pooled = kernels._max_pool_kernel(_ctx(), x, **attrs)
    dy = rng.standard_normal(pooled.shape).astype(np.float32)
    want_pooled, want_dx = max_pool_refs(x, ksize, strides, padding, dy)
    np.testing.assert_array_equal(pooled, want_pooled)
    dx = kernels._max_pool_grad_kernel(_ctx(), x, pooled, dy, **attrs)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, want_dx, rtol=1e-6, atol=1e-6)


def _pooling(kernels, x, attrs, dy, ddx):
    """Every pooling kernel of module `kernels`: max pool, its gradient and second gradient, average
    pool and its gradient; `dy` is pooled-shaped, `ddx` image-shaped."""
    pooled = kernels._max_pool_kernel(_ctx(), x, **attrs)
    return [pooled, kernels._max_pool_grad_kernel(_ctx(), x, pooled, dy, **attrs),
            kernels._max_pool_grad_grad_kernel(_ctx(), x, pooled, ddx, **attrs),
            kernels._avg_pool_kernel(_ctx(), x, **attrs),
            kernels._avg_pool_grad_kernel(_ctx(), np.array(x.shape), dy, **attrs)]


@pytest.mark.parametrize("values", ["distinct", "ties"])
@pytest.mark.parametrize("name", POOL_CASES)
def test_fast_pooling_kernels_match_the_reference_kernels(name, values):
    x, attrs, rng = _pool_case(name, values)
    pooled_shape = conv_ops._max_pool_kernel(_ctx(), x, **attrs).shape
    dy = rng.standard_normal(pooled_shape).astype(np.float32)
    ddx = rng.standard_normal(x.shape).astype(np.float32)
    for fast, reference in zip(_pooling(conv_fast, x, attrs, dy, ddx), _pooling(conv_ops, x, attrs, dy, ddx)):
        assert fast.dtype == reference.dtype == np.float32 and fast.shape == reference.shape
        np.testing.assert_allclose(fast, reference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kernels", KERNELS)
def test_max_pool_gradient_leaves_its_inputs_alone(kernels):
    x = _tie_heavy((2, 6, 6, 3), 1)
    attrs = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "SAME", "data_format": "NHWC"}
    pooled = kernels._max_pool_kernel(_ctx(), x, **attrs)
    dy = np.arange(pooled.size, dtype=np.float32).reshape(pooled.shape)
    copies = [x.copy(), pooled.copy(), dy.copy()]
    kernels._max_pool_grad_kernel(_ctx(), x, pooled, dy, **attrs)
    for before, after in zip(copies, [x, pooled, dy]):
        np.testing.assert_array_equal(before, after)


def _pool_gradients(tf, x, ksize, strides, padding):
    images = tf.placeholder(tf.float32, x.shape)
    pooled = tf.nn.max_pool(images, [1, *ksize, 1], [1, *strides, 1], padding)
    shape = pooled.shape.as_list()
    weights = np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)
    grad = tf.gradients(tf.reduce_sum(pooled * weights), images)[0]
    with tf.Session() as sess:
        return sess.run(grad, {images: x})


@pytest.mark.tensorflow
@pytest.mark.parametrize("name", ["2x2_same_odd", "2x2_valid_remainder", "3x3_stride2_overlap"])
def test_max_pool_ties_go_where_tensorflow_sends_them(name):
    import tfcore

    x_shape, ksize, strides, padding, _ = POOL_CASES[name]
    x = _tie_heavy(x_shape, 3)
    ours = run_in_graph(tfcore, _pool_gradients, x, ksize, strides, padding)
    theirs = run_in_graph(require_tf(), _pool_gradients, x, ksize, strides, padding)
    np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------------------------------------
# BiasAddGrad
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, data_format", [((6, 5, 7, 3), "NHWC"), ((4, 3, 5), "NHWC"), ((5, 4), "NHWC"),
                                                ((2, 3, 4, 5, 3), "NHWC"), ((4, 3, 5, 6), "NCHW")])
def test_bias_add_grad_sums_everything_but_the_channels(shape, data_format):
    grad = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    channel = 1 if data_format == "NCHW" else len(shape) - 1
    want = grad.astype(np.float64).sum(axis=tuple(i for i in range(len(shape)) if i != channel))
    got = nn_ops._bias_add_grad_kernel(_ctx(), grad, data_format)
    assert got.dtype == np.float32 and got.shape == (shape[channel],)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
