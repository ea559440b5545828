"""course.style.vgg and course.style.losses: both weight loaders on files written here in the real layouts,
random weights and their calibration, the network, and the style-transfer losses with their gradient
against TensorFlow."""

import warnings

import numpy as np
import pytest

import tfcore
from course.style import losses, vgg
from tests.tfcore.harness import require_tf


@pytest.fixture(scope="module")
def expected():
    """Weights every loader test writes in a file's layout and must read back exactly (RGB, HWIO)."""
    return vgg.random_weights(seed=7)


# ----------------------------------------------------------------------------------------------------
# The Keras file


def _write_keras_h5(path, weights, tf2_names=False):
    """A file laid out as Keras's vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5: attribute
    ``layer_names`` at the root, one group per layer (pooling and input layers too, without weights),
    each with attribute ``weight_names`` naming its datasets, ``block1_conv1/block1_conv1_W_1:0`` (HWIO
    kernel) and ``block1_conv1/block1_conv1_b_1:0``. The kernels are Caffe's: BGR input channels.
    `tf2_names` writes the later Keras naming (``block1_conv1/block1_conv1/kernel:0``) instead."""
    h5py = pytest.importorskip("h5py")
    layer_names = ["input_1"]
    with h5py.File(path, "w") as f:
        f.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for block, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)):
            for index in range(1, convs + 1):
                group_name = f"block{block}_conv{index}"
                kernel = weights.kernels[f"conv{block}_{index}"]
                if (block, index) == (1, 1):
                    kernel = kernel[:, :, ::-1, :]  # the file's first layer takes BGR
                if tf2_names:
                    names = [f"{group_name}/kernel:0", f"{group_name}/bias:0"]
                else:
                    names = [f"{group_name}_W_1:0", f"{group_name}_b_1:0"]
                group = f.create_group(group_name)
                group.attrs["weight_names"] = np.array([n.encode() for n in names])
                group.create_dataset(names[0], data=kernel)
                group.create_dataset(names[1], data=weights.biases[f"conv{block}_{index}"])
                layer_names.append(group_name)
            pool = f.create_group(f"block{block}_pool")
            pool.attrs["weight_names"] = np.array([], dtype="S1")
            layer_names.append(f"block{block}_pool")
        f.attrs["layer_names"] = np.array([n.encode() for n in layer_names])
    return path


@pytest.mark.parametrize("tf2_names", [False, True], ids=["keras-applications", "keras2-naming"])
def test_load_keras_h5(tmp_path, expected, tf2_names):
    path = _write_keras_h5(tmp_path / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", expected,
                           tf2_names)
    loaded = vgg.load_keras_h5(path)
    assert loaded.source == "keras" and loaded.pretrained and str(path) in loaded.note
    for name in vgg.CONV_LAYERS:
        np.testing.assert_array_equal(loaded.kernels[name], expected.kernels[name], err_msg=name)
        np.testing.assert_array_equal(loaded.biases[name], expected.biases[name], err_msg=name)
        assert loaded.kernels[name].dtype == np.float32 and loaded.kernels[name].flags.c_contiguous
    np.testing.assert_allclose(loaded.mean_pixel, [123.68, 116.779, 103.939], rtol=1e-6)


def test_load_keras_h5_rejects_other_files(tmp_path, expected):
    h5py = pytest.importorskip("h5py")
    path = _write_keras_h5(tmp_path / "w.h5", expected)
    with h5py.File(path, "a") as f:
        del f["block4_conv3"]
    with pytest.raises(ValueError, match=r"no group 'block4_conv3' \(layer conv4_3\)"):
        vgg.load_keras_h5(path)
    with h5py.File(path, "a") as f:  # a kernel of the wrong shape (a VGG16 file has no conv*_4 layers)
        group = f.create_group("block4_conv3")
        group.attrs["weight_names"] = np.array([b"block4_conv3_W_1:0", b"block4_conv3_b_1:0"])
        group.create_dataset("block4_conv3_W_1:0", data=np.zeros((3, 3, 512, 256), np.float32))
        group.create_dataset("block4_conv3_b_1:0", data=np.zeros(256, np.float32))
    with pytest.raises(ValueError, match=r"kernel of conv4_3 has shape \(3, 3, 512, 256\), expected"):
        vgg.load_keras_h5(path)


# ----------------------------------------------------------------------------------------------------
# The MatConvNet file


def _struct_cell(dicts):
    """A 1xN MATLAB cell array of structs (each a dict; savemat keeps the field order)."""
    cell = np.empty((1, len(dicts)), dtype=object)
    for i, d in enumerate(dicts):
        cell[0, i] = d
    return cell


def _weights_cell(*arrays):
    cell = np.empty((1, len(arrays)), dtype=object)
    for i, a in enumerate(arrays):
        cell[0, i] = a
    return cell


def _write_matconvnet(path, weights, old_format=False):
    """A file laid out as MatConvNet's imagenet-vgg-verydeep-19.mat: ``layers``, a 1xL cell of structs
    whose conv layers hold ``weights`` = {kernel [W, H, in, out], bias}, and the mean pixel as
    ``meta.normalization.averageImage`` (1x1x3) -- or, in the older version of the file, a whole mean
    image in ``normalization.averageImage`` and ``weights`` as the first field of each layer. The real
    file goes on with fc6 .. fc8 (left out here: the loader skips them, as it skips ``prob``)."""
    scipy_io = pytest.importorskip("scipy.io")
    layers = []
    for name in (*vgg.VGG19_LAYERS, "pool5", "prob"):
        kind = name.rstrip("0123456789_")
        empty = np.empty((1, 0), dtype=object)
        if kind == "conv":
            kernel = np.transpose(weights.kernels[name], (1, 0, 2, 3))
            bias = weights.biases[name].reshape(1, -1)
            cell = _weights_cell(kernel, bias)
            fields = {"name": name, "type": "conv", "weights": cell, "size": np.array(kernel.shape, float),
                      "pad": np.ones((1, 4)), "stride": np.ones((1, 2)), "precious": 0, "dilate": 1.0,
                      "opts": empty}
            if old_format:
                fields = {"weights": cell, "pad": np.ones((1, 4)), "type": "conv", "name": name,
                          "stride": np.ones((1, 2))}
        elif kind == "relu":
            fields = {"name": name, "type": "relu", "weights": empty, "precious": 0, "leak": 0.0}
        elif kind == "pool":
            fields = {"name": name, "type": "pool", "weights": empty, "method": "max",
                      "pool": np.array([[2.0, 2.0]]), "stride": np.array([[2.0, 2.0]]),
                      "pad": np.zeros((1, 4)), "precious": 0, "opts": empty}
        else:
            fields = {"name": name, "type": "softmax", "weights": empty, "precious": 0}
        layers.append(fields)
    mean = np.array([123.68, 116.779, 103.939])
    content = {"layers": _struct_cell(layers)}
    if old_format:
        image = np.tile(mean, (224, 224, 1)) + np.linspace(-1, 1, 224)[:, None, None]  # its mean is `mean`
        content["normalization"] = {"averageImage": image, "keepAspect": 1,
                                    "border": np.array([[32.0, 32.0]]),
                                    "imageSize": np.array([[224.0, 224.0, 3.0]])}
    else:
        content["meta"] = {"inputs": {"name": "input", "size": np.array([[224.0, 224.0, 3.0, 10.0]])},
                           "classes": {"name": _weights_cell("n01440764"),
                                       "description": _weights_cell("tench")},
                           "normalization": {"imageSize": np.array([[224.0, 224.0, 3.0, 10.0]]),
                                             "interpolation": "bilinear",
                                             "averageImage": mean.reshape(1, 1, 3),
                                             "keepAspect": 1, "border": np.array([[32.0, 32.0]])}}
    scipy_io.savemat(path, content)
    return path


@pytest.mark.parametrize("old_format", [False, True], ids=["current", "beta16"])
def test_load_matconvnet(tmp_path, expected, old_format):
    path = _write_matconvnet(tmp_path / "imagenet-vgg-verydeep-19.mat", expected, old_format)
    loaded = vgg.load_matconvnet(path)
    assert loaded.source == "matconvnet" and loaded.pretrained
    for name in vgg.CONV_LAYERS:
        np.testing.assert_array_equal(loaded.kernels[name], expected.kernels[name], err_msg=name)
        np.testing.assert_array_equal(loaded.biases[name], expected.biases[name], err_msg=name)
    np.testing.assert_allclose(loaded.mean_pixel, [123.68, 116.779, 103.939], rtol=1e-6)


def test_matconvnet_file_reads_as_neural_style_reads_it(tmp_path, expected):
    # the layout check: anishathalye/neural-style's vgg.py indexes the loaded file by position
    scipy_io = pytest.importorskip("scipy.io")
    data = scipy_io.loadmat(_write_matconvnet(tmp_path / "new.mat", expected))
    mean_pixel = data["meta"]["normalization"][0][0][0][0][2][0][0]
    np.testing.assert_allclose(mean_pixel, [123.68, 116.779, 103.939])
    layers = data["layers"][0]
    index = vgg.VGG19_LAYERS.index("conv3_2")
    kernels, bias = layers[index][0][0][2][0]
    np.testing.assert_array_equal(np.transpose(kernels, (1, 0, 2, 3)), expected.kernels["conv3_2"])
    np.testing.assert_array_equal(bias.reshape(-1), expected.biases["conv3_2"])
    old = scipy_io.loadmat(_write_matconvnet(tmp_path / "old.mat", expected, old_format=True))
    old_mean = np.mean(old["normalization"][0][0][0], axis=(0, 1))
    np.testing.assert_allclose(old_mean, [123.68, 116.779, 103.939])
    kernels, bias = old["layers"][0][index][0][0][0][0]
    np.testing.assert_array_equal(np.transpose(kernels, (1, 0, 2, 3)), expected.kernels["conv3_2"])


def test_load_matconvnet_rejects_other_files(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    path = tmp_path / "other.mat"
    scipy_io.savemat(path, {"net": np.zeros(3)})
    with pytest.raises(ValueError, match="no 'layers' variable"):
        vgg.load_matconvnet(path)
    scipy_io.savemat(path, {"layers": _struct_cell([{"name": "conv1_1", "type": "conv"}]),
                            "meta": {"normalization": {"averageImage": np.zeros((1, 1, 3))}}})
    with pytest.raises(ValueError, match="layer conv1_1 has no field 'weights'"):
        vgg.load_matconvnet(path)


# ----------------------------------------------------------------------------------------------------
# load_weights: the registry, and the offline fallback


def test_load_weights_offline_warns_and_uses_random(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))  # no weight files there, and no download
    with pytest.warns(vgg.VGG19WeightsWarning) as caught:
        weights = vgg.load_weights()
    message = str(caught[0].message)
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "imagenet-vgg-verydeep-19.mat" in message and "random weights" in message
    assert weights.source == "random" and not weights.pretrained and not weights.calibrated
    assert "no weight file" in weights.note
    np.testing.assert_array_equal(weights.kernels["conv2_1"], vgg.random_weights(0).kernels["conv2_1"])
    with pytest.raises(FileNotFoundError, match="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        vgg.load_weights("keras")  # asked for by name: the registry's error, no fallback
    with pytest.raises(ValueError, match="unknown source 'caffe'"):
        vgg.load_weights("caffe")


def test_load_weights_uses_a_verified_file_and_never_an_unverified_one(tmp_path, monkeypatch, expected):
    from tfcore.datasets import registry

    folder = tmp_path / "vgg19"
    folder.mkdir()
    path = _write_keras_h5(folder / "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", expected)
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))
    # this file is not Keras's, so its md5 does not match: it is refused, and "auto" falls back
    with pytest.warns(vgg.VGG19WeightsWarning, match="is corrupt: the md5 of its content should be "
                      "253f8cb515780f3b799900260a226db6"):
        weights = vgg.load_weights()
    assert weights.source == "random"
    # registered with this file's md5 instead, the same file is verified and used
    entry = registry.REGISTRY.get(vgg.KERAS_WEIGHTS)
    monkeypatch.setattr(registry.REGISTRY, "_entries", dict(registry.REGISTRY._entries))
    registry.REGISTRY.register(entry.name, entry.filename, entry.url, entry.subdir, None,
                               md5=registry.content_hash(path, "md5"), optional=True, replace=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = vgg.load_weights()
    assert weights.source == "keras"
    np.testing.assert_array_equal(weights.kernels["conv1_1"], expected.kernels["conv1_1"])


# ----------------------------------------------------------------------------------------------------
# Random weights, calibration, the network


def test_random_weights_are_reproducible_he_normal():
    a, b, c = vgg.random_weights(0), vgg.random_weights(0), vgg.random_weights(1)
    np.testing.assert_array_equal(a.kernels["conv4_4"], b.kernels["conv4_4"])
    assert not np.array_equal(a.kernels["conv1_1"], c.kernels["conv1_1"])
    kernel = a.kernels["conv3_1"]
    assert kernel.shape == (3, 3, 128, 256)
    np.testing.assert_allclose(kernel.std(), np.sqrt(2.0 / (9 * 128)), rtol=0.02)
    assert abs(kernel.mean()) < 0.001
    assert not a.biases["conv3_1"].any()


def test_build_layers_and_shapes():
    weights = vgg.random_weights(0)
    graph = tfcore.Graph()
    with graph.as_default():
        image = tfcore.placeholder(tfcore.float32, [1, 32, 48, 3])
        net = vgg.build(weights, image, tf=tfcore)
        assert tuple(net) == vgg.VGG19_LAYERS
        assert net["relu1_1"].get_shape().as_list() == [1, 32, 48, 64]
        assert net["pool1"].get_shape().as_list() == [1, 16, 24, 64]
        assert net["relu3_4"].get_shape().as_list() == [1, 8, 12, 256]
        assert net["relu5_4"].get_shape().as_list() == [1, 2, 3, 512]
        short = vgg.build(weights, image, pooling="avg", tf=tfcore, last="relu2_1")
        assert list(short)[-1] == "relu2_1" and len(short) == 7
        assert short["pool1"].op.type == "AvgPool"
    with pytest.raises(ValueError, match="unknown layer 'relu6_1'"):
        vgg.layers_up_to("relu6_1")
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        vgg.build(weights, image, pooling="min", tf=tfcore)


def test_build_computes_conv_bias_relu_pool():
    weights = vgg.random_weights(3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 6, 6, 3)).astype(np.float32)
    graph = tfcore.Graph()
    with graph.as_default(), tfcore.Session(graph=graph) as sess:
        net = vgg.build(weights, tfcore.constant(x), tf=tfcore, last="pool1")
        got = sess.run(net)
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    windows = np.stack([padded[i:i + 6, j:j + 6] for i in range(3) for j in range(3)], axis=2)  # [6,6,9,3]
    kernel = weights.kernels["conv1_1"].reshape(9, 3, 64)
    conv = np.einsum("hwkc,kco->hwo", windows, kernel) + weights.biases["conv1_1"]
    np.testing.assert_allclose(got["conv1_1"][0], conv, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["relu1_1"][0], np.maximum(conv, 0), rtol=1e-4, atol=1e-5)
    r = got["relu1_2"][0]
    np.testing.assert_array_equal(got["pool1"][0], r.reshape(3, 2, 3, 2, 64).max(axis=(1, 3)))


def test_calibrate_gives_unit_mean_activations():
    rng = np.random.default_rng(5)
    style = rng.uniform(0, 255, (32, 32, 3)).astype(np.float32)
    weights = vgg.random_weights(0)
    calibrated = vgg.calibrate(weights, style, tf=tfcore)
    assert calibrated.calibrated and calibrated.source == "random" and "calibrated to unit" in calibrated.note
    assert vgg.calibrate(calibrated, style, tf=tfcore) is calibrated
    relus = [name for name in vgg.VGG19_LAYERS if name.startswith("relu")]
    feats = losses.features(calibrated, style, relus, tf=tfcore)
    np.testing.assert_allclose([feats[name].mean() for name in relus], 1.0, rtol=1e-4)
    raw = losses.features(weights, style, ("relu5_4",), tf=tfcore)["relu5_4"].mean()
    assert not np.isclose(raw, 1.0, rtol=0.05)  # without calibration the scale drifts


def test_calibrate_leaves_pretrained_weights_alone(tmp_path, expected):
    loaded = vgg.load_keras_h5(_write_keras_h5(tmp_path / "w.h5", expected))
    assert vgg.calibrate(loaded, np.zeros((8, 8, 3), np.float32), tf=tfcore) is loaded


def test_preprocess_and_deprocess():
    image = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3) * 4
    x = vgg.preprocess(image)
    assert x.shape == (1, 4, 5, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, 0, 0], image[0, 0] - vgg.MEAN_PIXEL)
    back = vgg.deprocess(x)
    assert back.dtype == np.uint8 and back.shape == (4, 5, 3)
    np.testing.assert_array_equal(back, np.clip(image, 0, 255).astype(np.uint8))
    assert vgg.deprocess(np.full((2, 1, 1, 3), 500.0)).shape == (2, 1, 1, 3)
    assert (vgg.deprocess(np.full((1, 1, 3), -500.0)) == 0).all()
    with pytest.raises(ValueError, match=r"expected an RGB image"):
        vgg.preprocess(np.zeros((4, 4)))


# ----------------------------------------------------------------------------------------------------
# The losses


def _numpy_losses(net, content, grams, image, style_layers):
    """The three losses written out in NumPy (the formulas in course.style.losses's docstring)."""
    content_value = np.mean((net["relu4_2"] - content["relu4_2"]) ** 2)
    style_value = 0.0
    for layer in style_layers:
        f = net[layer].astype(np.float64)
        n, h, w, c = f.shape
        m = f.reshape(n, h * w, c)
        gram = np.einsum("npi,npj->nij", m, m) / (h * w * c)
        style_value += np.mean((gram - grams[layer]) ** 2) / len(style_layers)
    tv = np.mean(np.diff(image, axis=1) ** 2) + np.mean(np.diff(image, axis=2) ** 2)
    return content_value, style_value, tv


def _loss_program(tf, weights, x0, content, grams):
    """Build the Gatys loss on a variable image; return (session, image var, [losses], gradient)."""
    image = tf.Variable(x0, name="image")
    net = vgg.build(weights, image, tf=tf, last="relu5_1")
    parts = [losses.content_loss(net, content, tf=tf), losses.style_loss(net, grams, tf=tf),
             losses.total_variation_loss(image, tf=tf)]
    total = 5.0 * parts[0] + 500.0 * parts[1] + 100.0 * parts[2]
    gradient = tf.gradients(total, [image])[0]
    return image, net, parts, total, gradient


def _run_engine(tf, weights, x0, content, grams):
    graph = tf.Graph()
    with graph.as_default():
        image, net, parts, total, gradient = _loss_program(tf, weights, x0, content, grams)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            return sess.run({"net": net, "parts": parts, "total": total, "gradient": gradient})


@pytest.fixture(scope="module")
def small_problem():
    """A 16x16 content and style image, random calibrated weights (fixed), the targets."""
    rng = np.random.default_rng(11)
    content_image = rng.uniform(0, 255, (16, 16, 3)).astype(np.float32)
    style_image = rng.uniform(0, 255, (16, 16, 3)).astype(np.float32)
    weights = vgg.calibrate(vgg.random_weights(2), style_image, tf=tfcore)
    content = losses.content_targets(weights, content_image, tf=tfcore)
    grams = losses.style_targets(weights, style_image, tf=tfcore)
    x0 = vgg.preprocess(rng.uniform(0, 255, (16, 16, 3)))
    return weights, x0, content, grams


def test_losses_match_their_formulas(small_problem):
    weights, x0, content, grams = small_problem
    out = _run_engine(tfcore, weights, x0, content, grams)
    want = _numpy_losses(out["net"], content, grams, x0, losses.STYLE_LAYERS)
    np.testing.assert_allclose(out["parts"], want, rtol=2e-4)
    assert all(v > 0 for v in want)
    np.testing.assert_allclose(out["total"], 5 * want[0] + 500 * want[1] + 100 * want[2], rtol=2e-4)
    assert grams["relu3_1"].shape == (1, 256, 256)
    np.testing.assert_allclose(grams["relu3_1"][0], grams["relu3_1"][0].T, rtol=1e-6)


@pytest.mark.tensorflow
def test_losses_and_gradient_match_tensorflow(small_problem):
    tf_ref = require_tf()
    weights, x0, content, grams = small_problem
    ours = _run_engine(tfcore, weights, x0, content, grams)
    theirs = _run_engine(tf_ref, weights, x0, content, grams)
    np.testing.assert_allclose(ours["parts"], theirs["parts"], rtol=1e-4)
    np.testing.assert_allclose(ours["total"], theirs["total"], rtol=1e-4)
    scale = np.abs(theirs["gradient"]).max()
    assert scale > 0
    np.testing.assert_allclose(ours["gradient"], theirs["gradient"], rtol=1e-3, atol=1e-4 * scale)


def test_gram_matrix_batches_and_checks_shapes():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    graph = tfcore.Graph()
    with graph.as_default(), tfcore.Session(graph=graph) as sess:
        got = sess.run(losses.gram_matrix(tfcore.constant(f), tf=tfcore))
        with pytest.raises(ValueError, match="batch size must be known"):
            losses.gram_matrix(tfcore.placeholder(tfcore.float32, [None, 4, 5, 6]), tf=tfcore)
        with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
            losses.gram_matrix(tfcore.placeholder(tfcore.float32, [1, None, 5, 6]), tf=tfcore)
    m = f.reshape(3, 20, 6)
    np.testing.assert_allclose(got, np.einsum("npi,npj->nij", m, m) / 120, rtol=1e-5)
    with pytest.raises(ValueError, match="one non-negative weight per layer"):
        losses.style_loss({}, {}, layers=("relu1_1",), weights=[1, 2], tf=tfcore)
