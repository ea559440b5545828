"""course.style.gatys: style transfer by optimisation, in the offline fallback (random calibrated VGG19
weights, with the warning) that the tests and lesson 08 run in here."""

import numpy as np
import pytest

import tfcore
from course.style import gatys, vgg


def _images(size=32):
    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:size, 0:size] / size
    content = np.stack([255 * x, 255 * y, 128 + 100 * np.sin(6 * x)], axis=-1).astype(np.float32)
    style = rng.uniform(0, 255, (size + 8, size - 4, 3)).astype(np.float32)  # any size will do
    return content, style


@pytest.fixture(scope="module")
def random_weights():
    """Random weights, calibrated once on the style image (stylize then uses them as they are)."""
    return vgg.calibrate(vgg.random_weights(1), _images()[1], tf=tfcore)


def test_offline_fallback_stylizes_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))  # no weight file, no download
    content, style = _images()
    with pytest.warns(vgg.VGG19WeightsWarning, match="random weights"):
        result = gatys.stylize(content, style, iterations=8, checkpoint_every=3, tf=tfcore, progress=False)
    assert result.weights.source == "random" and result.weights.calibrated
    assert result.image.dtype == np.uint8 and result.image.shape == content.shape
    total = result.history["total"]
    assert total.shape == (8,) and np.isfinite(total).all()
    assert total[-1] < 0.8 * total[0]  # Adam's steps of 10 grey levels make it wobble, but it goes down
    np.testing.assert_allclose(total, result.history["content"] + result.history["style"]
                               + result.history["tv"], rtol=1e-5)
    assert [step for step, _ in result.snapshots] == [0, 3, 6, 8]
    np.testing.assert_array_equal(result.snapshots[0][1], np.clip(np.rint(content), 0, 255).astype(np.uint8))
    np.testing.assert_array_equal(result.snapshots[-1][1], result.image)
    assert 0 < result.seconds_per_iteration < 60


def test_random_weights_loss_balance_transfers_style(random_weights):
    content, style = _images()
    weights = gatys.loss_weights(random_weights)
    assert weights == gatys.RANDOM_LOSS_WEIGHTS
    result = gatys.stylize(content, style, iterations=6, weights=random_weights, tf=tfcore, progress=False,
                           **weights)
    history = result.history
    assert history["style"][0] > history["tv"][0]  # the style term leads, as it should
    assert history["style"][-1] < 0.75 * history["style"][0]
    assert history["content"][0] == 0 and history["content"][-1] > 0  # moved away from the photo


def test_texture_and_content_reconstruction(random_weights):
    content, style = _images()
    texture = gatys.stylize(None, style, iterations=12, content_weight=0, style_weight=1e6, tv_weight=0.1,
                            style_layers=("relu1_1", "relu2_1"), initial="noise",
                            weights=random_weights, tf=tfcore, progress=False)
    assert texture.image.shape == style.shape and not texture.history["content"].any()
    assert texture.history["style"][-1] < 0.75 * texture.history["style"][0]
    shallow = gatys.stylize(content, style, iterations=5, style_weight=0, tv_weight=0, initial="noise",
                            content_layers=("relu1_2",), weights=random_weights, tf=tfcore, progress=False)
    assert not shallow.history["style"].any() and not shallow.history["tv"].any()
    assert shallow.history["content"][-1] < 0.6 * shallow.history["content"][0]


def test_stylize_checks_its_arguments(random_weights):
    content, style = _images(8)
    with pytest.raises(ValueError, match="no content image, so content_weight must be 0"):
        gatys.stylize(None, style, 1, weights=random_weights, tf=tfcore, progress=False)
    with pytest.raises(ValueError, match=r"the style image must be RGB \[H, W, 3\]"):
        gatys.stylize(content, style[..., 0], 1, weights=random_weights, tf=tfcore, progress=False)
    with pytest.raises(ValueError, match="initial must be 'content', 'noise' or an image"):
        gatys.stylize(content, style, 1, initial="zeros", weights=random_weights, tf=tfcore, progress=False)


def test_loss_weights_follow_the_weights(tmp_path):
    assert gatys.loss_weights(vgg.random_weights(0)) == {"content_weight": 500.0, "style_weight": 1e6,
                                                         "tv_weight": 0.05}
    pretrained = vgg.VGG19Weights(vgg.random_weights(0).kernels, vgg.random_weights(0).biases,
                                  source="keras", note="test")
    assert gatys.loss_weights(pretrained) == {"content_weight": 5.0, "style_weight": 500.0,
                                              "tv_weight": 100.0}
