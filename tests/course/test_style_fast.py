"""`course.style.fast` (lesson 09's feed-forward style network) on both engines, and the build-time
errors of the `tf.image` resizers it uses (their values and gradients are rows of the op table,
tests/tfcore/opspecs/image.py).

Everything runs on tiny images and a slim network with random VGG19 weights, so the file takes well
under a minute.
"""

import json
import os

import numpy as np
import pytest

import tfcore
from course.style import fast, vgg
from tests.tfcore.harness import engine, engines

RNG = np.random.default_rng(3)
PHOTOS = [RNG.uniform(0, 255, shape).astype(np.float32) for shape in [(40, 52, 3), (36, 36, 3)]]
STYLE = RNG.uniform(0, 255, (24, 30, 3)).astype(np.float32)
SMALL = {"width": 4, "residual_blocks": 1}


@pytest.fixture(scope="module")
def vgg_weights():
    return vgg.random_weights(seed=0)


def _run_net(tf, shape, **kwargs):
    """The untrained network's output (and its variables) on a random batch of `shape`."""
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, None, None, 3])
        out = fast.transform_net(images, tf=tf, **SMALL, **kwargs)
        names = sorted(v.op.name for v in tf.trainable_variables())
        with tf.Session() as sess:
            tf.set_random_seed(0)
            sess.run(tf.global_variables_initializer())
            value = sess.run(out, {images: RNG.uniform(0, 255, shape).astype(np.float32)})
    return value, names


@pytest.mark.parametrize("engine_name", engines())
@pytest.mark.parametrize("upsample", ["resize", "transpose"])
def test_transform_net_keeps_any_image_size(engine_name, upsample):
    tf = engine(engine_name)
    for shape in [(1, 13, 18, 3), (2, 16, 16, 3), (1, 9, 7, 3)]:  # sides not multiples of 4 included
        value, names = _run_net(tf, shape, upsample=upsample)
        assert value.shape == shape
        assert np.all(value >= -22.5) and np.all(value <= 277.5)  # 150 * tanh + 127.5
        assert value.std() > 1.0  # not a constant image
    assert all(name.startswith("transform/") for name in names)
    assert "transform/residual1/a/weights" in names and "transform/conv1/scale" in names


def test_transform_net_static_shapes_and_bad_arguments():
    with tfcore.Graph().as_default():
        images = tfcore.placeholder(tfcore.float32, [2, 30, 22, 3])
        out = fast.transform_net(images, tf=tfcore, **SMALL)
        assert out.get_shape().as_list() == [2, 30, 22, 3]
        with pytest.raises(ValueError, match="upsample must be 'resize' or 'transpose'"):
            fast.transform_net(images, tf=tfcore, upsample="bicubic", reuse=True)
        with pytest.raises(ValueError, match=r"expected RGB images \[N, H, W, 3\]"):
            fast.transform_net(tfcore.placeholder(tfcore.float32, [1, 8, 8, 1]), tf=tfcore)


@pytest.mark.parametrize("engine_name", engines())
def test_instance_norm_normalises_each_image_and_channel(engine_name):
    tf = engine(engine_name)
    batch = np.stack([RNG.normal(0, 1, (5, 6, 2)), RNG.normal(80, 30, (5, 6, 2))]).astype(np.float32)
    with tf.Graph().as_default():
        with tf.variable_scope("norm"):
            out = fast.instance_norm(tf.constant(batch), tf=tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(out)
    np.testing.assert_allclose(value.mean(axis=(1, 2)), 0, atol=1e-5)
    variance = batch.var(axis=(1, 2))
    np.testing.assert_allclose(value.var(axis=(1, 2)), variance / (variance + 1e-3), rtol=1e-4)


def test_crop_sampler_and_shrink():
    sampler = fast.CropSampler(PHOTOS, batch_size=3, crop_size=20, seed=0)
    sides = set()
    for _ in range(10):
        batch = sampler.batch()
        assert batch.shape[0] == 3 and batch.shape[1] == batch.shape[2] and batch.shape[3] == 3
        assert 20 <= batch.shape[1] <= 40  # up to twice the crop, within the smallest photo of the batch
        sides.add(batch.shape[1])
    assert len(sides) > 1  # random scales
    small = fast.shrink(PHOTOS[0], 26, tf=tfcore)
    assert small.shape == (20, 26, 3) and small.dtype == np.float32
    assert fast.shrink(PHOTOS[0], 100, tf=tfcore).shape == (40, 52, 3)  # never enlarged


def test_read_images_from_folder_and_errors(tmp_path):
    import matplotlib.image

    for i, photo in enumerate(PHOTOS):
        matplotlib.image.imsave(tmp_path / f"photo{i}.png", photo.astype(np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    images = fast.read_images(tmp_path)
    assert [image.shape for image in images] == [(40, 52, 3), (36, 36, 3)]
    np.testing.assert_allclose(images[1], PHOTOS[1].astype(np.uint8), atol=1)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no .jpg/.jpeg/.png images in folder"):
        fast.read_images(empty)
    with pytest.raises(ValueError, match="expected an RGB image"):
        fast.read_images([np.zeros((4, 4))])


@pytest.mark.parametrize("engine_name", engines())
def test_train_save_and_apply(engine_name, tmp_path, vgg_weights):
    tf = engine(engine_name)
    steps = 3
    result = fast.train(PHOTOS, STYLE, steps, batch_size=2, crop_size=16, style_size=20, weights=vgg_weights,
                        save_to=tmp_path / "model", tf=tf, progress=False, **SMALL)
    assert set(result.history) == {"total", "content", "style", "tv"}
    assert all(len(values) == steps for values in result.history.values())
    parts = sum(np.array(result.history[name]) for name in ("content", "style", "tv"))
    np.testing.assert_allclose(result.history["total"], parts, rtol=1e-5)
    assert result.last_outputs.shape == (2, 16, 16, 3) and result.last_outputs.dtype == np.uint8
    config = json.loads((tmp_path / "model" / fast.CONFIG_FILE).read_text())
    assert config["engine"] == engine_name and config["width"] == 4 and config["vgg19"] == "random"
    assert os.path.exists(result.model_path + ".index")

    photo = (PHOTOS[0][:21, :30]).astype(np.uint8)
    painted = fast.apply(tmp_path / "model", photo)  # the engine that saved it, by default
    assert painted.shape == photo.shape and painted.dtype == np.uint8
    with fast.load(result.model_path, tf=tf) as stylize:  # a checkpoint prefix works too
        np.testing.assert_array_equal(stylize(photo), painted)
        np.testing.assert_array_equal(stylize(photo.astype(np.float32)), painted)
        with pytest.raises(ValueError, match="too small"):
            stylize(photo[:3, :3])
    other = tfcore if engine_name == "tensorflow" else None
    if other is not None:
        with pytest.raises(ValueError, match="was saved by tensorflow"):
            fast.load(tmp_path / "model", tf=other)


def test_training_lowers_the_loss(tmp_path, vgg_weights):
    photo = np.tile(np.linspace(0, 255, 32, dtype=np.float32)[None, :, None], (32, 1, 3))
    result = fast.train([photo], STYLE, 12, batch_size=1, crop_size=32, style_size=20, learning_rate=0.02,
                        weights=vgg_weights, tf=tfcore, progress=False, **SMALL)
    total = result.history["total"]
    assert np.mean(total[-3:]) < 0.7 * np.mean(total[:3]), total
    assert result.model_path is None


def test_apply_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained network at"):
        fast.apply(tmp_path, np.zeros((8, 8, 3), np.uint8))
    config = {"width": 4, "residual_blocks": 1, "upsample": "resize", "engine": "tfcore"}
    (tmp_path / fast.CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="no checkpoint in folder"):
        fast.apply(tmp_path, np.zeros((8, 8, 3), np.uint8))


# --- tf.image: errors at build time ------------------------------------------------------------------


def test_resize_errors_are_raised_when_the_graph_is_built():
    tf = tfcore
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [1, 4, 4, 3])
        with pytest.raises(ValueError, match="If half_pixel_centers is True, align_corners must be False"):
            tf.image.resize_bilinear(image, [8, 8], align_corners=True, half_pixel_centers=True)
        with pytest.raises(ValueError, match="must be 4-dimensional.*ResizeNearestNeighbor"):
            tf.image.resize_nearest_neighbor(tf.placeholder(tf.float32, [4, 4, 3]), [8, 8])
        with pytest.raises(ValueError, match="2 elements"):
            tf.image.resize_bilinear(image, [8, 8, 1])
        with pytest.raises(ValueError, match="output dimensions must be positive"):
            tf.image.resize_bilinear(image, [0, 8])
        with pytest.raises(NotImplementedError, match="BICUBIC is not implemented in tfcore"):
            tf.image.resize_images(image, [8, 8], method=tf.image.ResizeMethod.BICUBIC)
        with pytest.raises(ValueError, match="Resize method is not implemented: 7"):
            tf.image.resize_images(image, [8, 8], method=7)
        with pytest.raises(ValueError, match="must have either 3 or 4 dimensions"):
            tf.image.resize_images(tf.placeholder(tf.float32, [4, 3]), [8, 8])
        with pytest.raises(ValueError, match="1-D Tensor of 2 elements"):
            tf.image.resize_images(image, [8])
        # a size known only at run time: the static shape says what it can
        size = tf.placeholder(tf.int32, [2])
        resized = tf.image.resize_bilinear(image, size)
        assert resized.get_shape().as_list() == [1, None, None, 3]
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="must be positive"):
            sess.run(resized, {image: np.zeros((1, 4, 4, 3), np.float32), size: [0, 3]})
        assert tf.image.resize_images(image, [4, 4]) is image  # already that size: no op at all
