"""The apps' Python side without a browser: the digit model and its preprocessing, the shipped
checkpoint and the script that makes it, and how each app handles ordinary mistakes (a message in the
app, never an exception)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.browser.helpers import ROOT

sys.path.insert(0, str(ROOT / "apps"))

import convolution_app  # noqa: E402  (apps/)
import digit_app  # noqa: E402
import digits  # noqa: E402
import style_app  # noqa: E402

RING = [(140 + 65 * np.sin(a), 140 - 95 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 40)]
LINE = [(145, 40), (140, 140), (135, 240)]


@pytest.fixture(scope="module")
def model():
    m = digits.DigitModel()
    yield m
    m.close()


def test_to_mnist_scales_into_20_pixels_and_centres_the_mass():
    assert digits.strokes_to_mnist([]) is None and digits.strokes_to_mnist([[]]) is None
    assert digits.to_mnist(np.zeros((280, 280))) is None
    ink = np.zeros((280, 280), np.float32)
    ink[30:90, 200:230] = 1.0  # a tall bar in the top right corner
    image = digits.to_mnist(ink)
    assert image.shape == (28, 28) and image.dtype == np.float32 and image.max() <= 1.0
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    cols = np.flatnonzero(image.max(axis=0) > 0.05)
    assert 19 <= rows[-1] - rows[0] + 1 <= 21 and 9 <= cols[-1] - cols[0] + 1 <= 11
    weights = np.arange(28) / image.sum()
    centre = ((image.sum(axis=1) * weights).sum(), (image.sum(axis=0) * weights).sum())
    assert np.allclose(centre, 13.5, atol=0.6), centre


def test_render_strokes_draws_a_dot_for_a_click():
    ink = digits.render_strokes([[(100, 100)]])
    assert ink[100, 100] == 1.0 and ink[100, 100 + digits.PEN_WIDTH] == 0.0


def test_shipped_checkpoint_is_small_and_reads_mnist(model):
    files = list(digits.CHECKPOINT.parent.glob(digits.CHECKPOINT.name + ".*"))
    assert {f.suffix for f in files} == {".index", ".data-00000-of-00001"}
    assert sum(f.stat().st_size for f in files) < 2_000_000
    from course import data

    test = data.mnist(one_hot=False).test
    probabilities = model.probabilities(test.images[:1000])
    assert probabilities.shape == (1000, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    accuracy = np.mean(probabilities.argmax(axis=1) == test.labels[:1000])
    assert accuracy >= 0.98, accuracy


def test_model_reads_drawn_digits(model):
    seven = [LINE, [(55, 44), (150, 40)]]
    found = [int(np.argmax(model.probabilities(digits.strokes_to_mnist(s)))) for s in ([RING], [LINE], seven)]
    assert found == [0, 1, 7]


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/train_digit_model.py"):
        digits.DigitModel(tmp_path / "nothing.ckpt")


@pytest.mark.slow
def test_training_script_writes_a_checkpoint_the_app_restores(tmp_path):
    out = tmp_path / "model" / "lenet5.ckpt"
    command = [sys.executable, str(ROOT / "scripts" / "train_digit_model.py"), "--steps", "30",
               "--test-images", "500", "--out", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout[run.stdout.index("{"):])
    assert (summary["steps"], summary["test_images"], summary["weights"]) == (30, 500, 215_370)
    assert summary["test_accuracy"] > 0.3, summary  # 30 steps: well above chance (0.1), far from trained
    restored = digits.DigitModel(out)
    try:
        p = restored.probabilities(np.zeros((28, 28), np.float32))
        assert p.shape == (10,) and abs(p.sum() - 1) < 1e-4
    finally:
        restored.close()


def test_digit_app_predicts_and_clears(model):
    app = digit_app.DigitApp(model=model)
    assert "data-digit=''" in app.prediction.value
    app.stroke(LINE)
    assert "data-digit='1'" in app.prediction.value and app.message.value == ""
    app.clear()
    assert app.strokes == [] and "data-digit=''" in app.prediction.value


def test_digit_app_without_its_model_says_so(tmp_path):
    app = digit_app.DigitApp(checkpoint=tmp_path / "missing.ckpt")
    assert "could not be loaded" in app.message.value and "train_digit_model.py" in app.message.value
    app.stroke(LINE)  # drawing still works, it only cannot predict
    assert "data-digit=''" in app.prediction.value


def test_convolution_app_images_and_missing_data(monkeypatch, tmp_path):
    images, problems = convolution_app.gather_images()
    assert problems == []
    assert set(images) == {"digit 3", "digit 7", "digit 0", "photo bridge", "photo columns", "photo flowers",
                           "photo beach-city"}
    assert images["digit 3"].shape == (28, 28) and max(images["photo bridge"].shape) <= 192
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))  # an empty data folder: every file is missing
    app = convolution_app.ConvolutionApp()
    assert app.explorer is None
    texts = " ".join(getattr(w, "value", "") for w in app.widget.children)
    assert "No image could be read" in texts and "course data fetch" in texts


def test_style_app_reports_ordinary_mistakes():
    with pytest.raises(ValueError, match="not an image"):
        style_app.decode(b"this is not a picture")
    app = style_app.StyleApp()
    assert app.message.value == "" and app.content_view.value and app.style_view.value
    app._on_upload({"new": ({"name": "notes.txt", "content": memoryview(b"plain text")},)})
    assert "not an image" in app.message.value
    app.content_list.value = "my upload"
    app.run()
    assert "upload a photo first" in app.message.value and not app.button.disabled
    assert app.result_view.value == b""


def test_style_app_finds_trained_fast_networks(tmp_path):
    from course.style import fast

    assert style_app.fast_model("the_scream", folders=[tmp_path], lesson_model=tmp_path / "lesson") is None
    (tmp_path / "the_scream").mkdir()
    (tmp_path / "the_scream" / fast.CONFIG_FILE).write_text("{}")
    assert style_app.fast_model("the_scream", folders=[tmp_path]) == tmp_path / "the_scream"
    lesson = tmp_path / "lesson"
    lesson.mkdir()
    (lesson / fast.CONFIG_FILE).write_text(json.dumps({"style_image": "shipwreck"}))
    assert style_app.fast_model("shipwreck", folders=[tmp_path], lesson_model=lesson) == lesson
    assert style_app.fast_model("starry_night", folders=[tmp_path], lesson_model=lesson) is None


@pytest.mark.slow
def test_style_app_uses_a_trained_fast_network(tmp_path):
    """A (tiny, briefly trained) fast network saved where the app looks is used in one pass."""
    import warnings

    from course.style import fast

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # random VGG19 weights: expected without the file
        fast.train(["bridge"], "the_scream", 2, batch_size=1, crop_size=32, style_size=32, width=4,
                   residual_blocks=1, save_to=tmp_path / "the_scream", progress=False)
    photo = style_app.shrink(style_app.registry_image("bridge"), 48)
    image, notes = style_app.stylize(photo, "the_scream", 1, progress=False, folders=[tmp_path],
                                     lesson_model=tmp_path / "none")
    assert image.shape == photo.shape and image.dtype == np.uint8
    assert len(notes) == 1 and "fast network" in notes[0]
