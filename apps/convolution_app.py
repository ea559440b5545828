"""The convolution explorer app: lesson 06's kernel explorer over MNIST digits and the course's photos.

    from convolution_app import ConvolutionApp
    ConvolutionApp()    # as the last line of a cell, displays the app (apps/convolution_explorer.ipynb)

Pick a preset kernel or edit any of the nine numbers, pick an image, and see the feature map
(`tf.nn.conv2d`, SAME padding, stride 1) and the 2x2 max-pooled map. The work is done by
`course.widgets.kernel_explorer` on the course's engine; this module only gathers the images.
"""

import gzip
import html

import numpy as np

PHOTOS = ("bridge", "columns", "flowers", "beach-city")
"""Content photos of the data registry offered as images (turned gray, at most PHOTO_WIDTH wide)."""
PHOTO_WIDTH = 192
DIGITS = (3, 7, 0)
"""MNIST test digits offered as images: the first test image of each of these classes."""


def mnist_digits(wanted=DIGITS):
    """{"digit 3": [28, 28] float32 in 0..1, ...}: the first test image of each wanted class, read
    from the head of the MNIST test files (no need to load all 70,000 images)."""
    from course import data

    count = 200  # the first 200 test images hold every class
    with gzip.open(data.path("mnist/t10k-images", progress=False), "rb") as file:
        file.read(16)
        pixels = np.frombuffer(file.read(784 * count), dtype=np.uint8).reshape(count, 28, 28)
    with gzip.open(data.path("mnist/t10k-labels", progress=False), "rb") as file:
        file.read(8)
        labels = np.frombuffer(file.read(count), dtype=np.uint8)
    return {f"digit {d}": pixels[int(np.flatnonzero(labels == d)[0])].astype(np.float32) / 255.0
            for d in wanted}


def photo(name, width=PHOTO_WIDTH):
    """A registry photo as a gray float32 [H, W] image in 0..1, scaled down to `width` pixels."""
    from PIL import Image

    from course import data

    rgb = data.load_image(name)  # float32 [H, W, 3], 0..255
    gray = Image.fromarray(np.uint8(np.clip(rgb, 0, 255))).convert("L")
    if gray.width > width:
        gray = gray.resize((width, max(1, round(gray.height * width / gray.width))), Image.LANCZOS)
    return np.asarray(gray, dtype=np.float32) / 255.0


def gather_images():
    """The app's images, and a list of the ones that could not be read (each with the reason)."""
    images, problems = {}, []
    try:
        images.update(mnist_digits())
    except Exception as exc:  # a missing data file: the other images still work
        problems.append(f"MNIST digits: {exc}")
    for name in PHOTOS:
        try:
            images[f"photo {name}"] = photo(name)
        except Exception as exc:
            problems.append(f"photo {name}: {exc}")
    return images, problems


class ConvolutionApp:
    """The explorer (`.explorer`, a `KernelExplorer`) with a note on any image that could not be read."""

    def __init__(self, tf=None):
        import ipywidgets as widgets

        import course
        from course.widgets.kernel_explorer import KernelExplorer

        images, problems = gather_images()
        self.explorer = None
        notes = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        parts = []
        if images:
            self.explorer = KernelExplorer(tf if tf is not None else course.engine(), images)
            parts.append(self.explorer.widget)
        else:
            parts.append(widgets.HTML("<p style='color:#b00'>No image could be read, so there is nothing to "
                                      "explore.</p>"))
        if notes:
            parts.append(widgets.HTML(f"<p style='color:#b00'>Some images are missing:</p><ul>{notes}</ul>"
                                      "<p>Run <code>course data fetch</code> to download them.</p>"))
        self.widget = widgets.VBox(parts)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
