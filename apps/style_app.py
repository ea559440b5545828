"""The "style a photo" app: pick or upload a photo, pick a painting, and get the photo in its style.

    from style_app import StyleApp
    StyleApp()          # as the last line of a cell, displays the app (apps/style_a_photo.ipynb)

Where a fast style network for the chosen painting has been trained (`course.style.fast.train(...,
save_to=folder)`, lesson 09), the photo goes through it in one pass (`course.style.fast.apply`); see
`fast_model` for where the app looks. Otherwise the app runs a short Gatys optimisation
(`course.style.gatys.stylize`, lesson 08) on a small copy of the photo, with a progress bar; without
pretrained VGG19 weights that runs on calibrated random weights and the app says so.
"""

import html
import io
import json
import warnings
from pathlib import Path

import numpy as np

import course

HERE = Path(__file__).resolve().parent
FAST_MODEL_DIRS = (HERE / "models" / "fast_style", HERE.parent / "runs" / "fast_style")
"""Folders holding one trained fast network per painting, each in a sub-folder named after the painting
(`<folder>/great_wave_hokusai/`, as `fast.train(..., save_to=...)` writes it)."""
LESSON_09_MODEL = HERE.parent / "runs" / "09_fast_style"
"""Where lesson 09 saves its network; used for a painting when its config names that painting."""
CONTENT = ("bridge", "columns", "flowers", "beach-city")
STYLES = ("starry_night", "the_scream", "great_wave_hokusai", "shipwreck")
GATYS_SIZE = course.choose(128, 64)
"""The longest side of the photo the Gatys optimisation works on (seconds per step on a CPU; smaller in
the course's fast mode, which the tests use)."""


def _config(folder):
    from course.style import fast

    path = Path(folder) / fast.CONFIG_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def fast_model(style, folders=FAST_MODEL_DIRS, lesson_model=LESSON_09_MODEL):
    """The folder of a trained fast network for `style`, or None when there is none: `<folder>/<style>/`
    for the first of `folders` that has one, else lesson 09's folder when its config names `style`."""
    for folder in folders:
        if _config(Path(folder) / style) is not None:
            return Path(folder) / style
    config = _config(lesson_model)
    if config is not None and config.get("style_image") == style:
        return Path(lesson_model)
    return None


_VGG = {}


def vgg_weights():
    """VGG19's weights, loaded once per kernel, and the warning that came with them ("" for none):
    `course.style.vgg.load_weights` takes the real file where it can be had, else random weights."""
    if "weights" not in _VGG:
        from course.style import vgg

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _VGG["weights"] = vgg.load_weights()
        _VGG["warning"] = " ".join(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    return _VGG["weights"], _VGG["warning"]


def shrink(image, longest):
    """A uint8 RGB image with its longest side at most `longest` pixels."""
    from PIL import Image

    picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    scale = longest / max(picture.size)
    if scale < 1:
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.LANCZOS)
    return np.asarray(picture)


def png(image):
    """PNG bytes of a uint8 RGB image."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data):
    """An uploaded file's bytes as a uint8 RGB image; ValueError when it is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        return np.asarray(Image.open(io.BytesIO(bytes(data))).convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("that file is not an image this app can read (use a JPEG or PNG photo)") from exc


def note_html(note):
    """A note for the user as HTML: a paragraph, with its details folded away when it has some."""
    text, details = (note, "") if isinstance(note, str) else note
    if not details:
        return f"<p class='style-note'>{html.escape(text)}</p>"
    return (f"<details><summary class='style-note'>{html.escape(text)} (why)</summary>"
            f"<p style='font-size:smaller'>{html.escape(details)}</p></details>")


def registry_image(name):
    """A registry photo or painting as uint8 RGB."""
    from course import data

    return np.uint8(np.clip(data.load_image(name), 0, 255))


def stylize(content, style_name, iterations, progress=True, folders=FAST_MODEL_DIRS,
            lesson_model=LESSON_09_MODEL):
    """The styled image (uint8 RGB) and a list of notes for the user (each a text, or a pair of a text and
    its details): the fast network when one is trained for `style_name`, else `iterations` Gatys steps on
    a copy at most GATYS_SIZE pixels. `folders` and `lesson_model` are where trained networks are looked
    for (`fast_model`)."""
    model = fast_model(style_name, folders, lesson_model)
    if model is not None:
        from course.style import fast

        image = fast.apply(str(model), content)
        return np.asarray(image, dtype=np.uint8), [f"Styled in one pass by the fast network trained for "
                                                   f"{style_name} ({model})."]
    from course.style import gatys

    weights, warning = vgg_weights()
    small = shrink(content, GATYS_SIZE)
    style = shrink(registry_image(style_name), GATYS_SIZE * 2)
    result = gatys.stylize(small, style, iterations, weights=weights, progress=progress,
                           **gatys.loss_weights(weights))
    notes = [f"No fast network is trained for {style_name}, so this is {iterations} steps of Gatys' "
             f"optimisation on a {small.shape[1]} x {small.shape[0]} copy of the photo (lesson 08)."]
    if not weights.pretrained:
        notes.append(("No pretrained VGG19 weights were found, so the style comes from a VGG19 with random "
                      "weights: colours and textures, matched less faithfully than with the trained network.",
                      warning))
    return np.asarray(result.image, dtype=np.uint8), notes


class StyleApp:
    """The app's widgets; `run()` styles the current choice (the Style button calls it)."""

    def __init__(self):
        import ipywidgets as widgets

        self.content_list = widgets.Dropdown(options=[*CONTENT, "my upload"], value=CONTENT[0],
                                             description="photo")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
        self.style_list = widgets.Dropdown(options=STYLES, value=STYLES[0], description="painting")
        self.steps = widgets.IntSlider(value=course.choose(30, 3), min=1, max=300, description="Gatys steps")
        self.button = widgets.Button(description="Style it", button_style="primary", icon="paint-brush")
        self.content_view = widgets.Image(format="png", layout=widgets.Layout(max_width="256px"))
        self.style_view = widgets.Image(format="png", layout=widgets.Layout(max_width="256px"))
        self.result_view = widgets.Image(format="png", layout=widgets.Layout(width="384px"))
        self.result_view.add_class("styled-result")
        self.progress = widgets.Output()
        self.message = widgets.HTML()
        self.uploaded = None

        self.content_list.observe(lambda _change: self._show_choices(), names="value")
        self.style_list.observe(lambda _change: self._show_choices(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.button.on_click(lambda _button: self.run())

        controls = widgets.VBox([self.content_list, self.upload, self.style_list, self.steps, self.button])
        inputs = widgets.HBox([self._labelled("photo", self.content_view),
                               self._labelled("painting", self.style_view)],
                              layout=widgets.Layout(margin="0 0 0 24px"))
        self.widget = widgets.VBox([
            widgets.HBox([controls, inputs]),
            self.progress, self.message, self._labelled("result", self.result_view)])
        self._show_choices()

    @staticmethod
    def _labelled(title, view):
        import ipywidgets as widgets

        return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), view])

    def _error(self, text):
        self.message.value = f"<p class='style-error' style='color:#b00'>{html.escape(text)}</p>"

    def content(self):
        """The chosen photo as uint8 RGB."""
        if self.content_list.value == "my upload":
            if self.uploaded is None:
                raise ValueError("upload a photo first (the button under the list)")
            return self.uploaded
        return registry_image(self.content_list.value)

    def _show_choices(self):
        try:
            self.content_view.value = png(shrink(self.content(), 256))
            self.style_view.value = png(shrink(registry_image(self.style_list.value), 256))
            self.message.value = ""
        except Exception as exc:  # a missing data file or no upload yet: say so in the app
            self._error(str(exc))

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        try:
            self.uploaded = decode(files[0]["content"])
        except ValueError as exc:
            self._error(str(exc))
            return
        self.content_list.value = "my upload"
        self._show_choices()

    def run(self):
        """Style the chosen photo with the chosen painting; shows the result (or what went wrong)."""
        self.button.disabled = True
        self.message.value = "<p>Styling ...</p>"
        self.progress.clear_output()
        try:
            content = self.content()
            with self.progress:
                image, notes = stylize(content, self.style_list.value, self.steps.value)
            self.result_view.value = png(image)
            self.message.value = "".join(note_html(note) for note in notes)
        except Exception as exc:  # ordinary mistakes and missing files: a message, not a traceback
            self._error(f"Could not style the photo: {exc}")
        finally:
            self.button.disabled = False

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
