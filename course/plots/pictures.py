"""Pictures (axes off: a title is enough): images in a grid."""

import math

import matplotlib.pyplot as plt
import numpy as np

from course.plots.labels import _require


def _as_picture(image):
    """An image array ready for imshow: flat squares reshaped, one-channel squeezed, RGB in 0..1."""
    image = np.asarray(image)
    if image.ndim == 1:
        side = math.isqrt(image.size)
        if side * side != image.size:
            raise ValueError(f"course.plots: a flat image of {image.size} values is not a square")
        image = image.reshape(side, side)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.dtype.kind == "f":
        # colour images: the course keeps them in 0..255 (course.data.load_image); imshow wants 0..1
        scale = 255.0 if image.max(initial=0.0) > 1.0 else 1.0
        image = np.clip(image / scale, 0.0, 1.0)
    return image


def image_grid(images, titles=None, *, title, ncols=8, cmap="gray", figsize=None, vmin=None, vmax=None):
    """Images in a grid with the figure title `title` and, optionally, one title per image.

    `images`: a sequence or an array [n, height, width], [n, height, width, channels] or [n, pixels] (a
    square such as MNIST's 784). Colour float images in 0..255 are scaled for display. Returns the
    `Figure`.
    """
    _require(title=title)
    pictures = [_as_picture(image) for image in images]
    if titles is not None and len(titles) != len(pictures):
        raise ValueError(f"course.plots.image_grid: {len(pictures)} images but {len(titles)} titles")
    n = max(len(pictures), 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    if figsize is None:
        figsize = (max(3.0, 1.4 * ncols), 1.5 * nrows + (0.25 * nrows if titles is not None else 0) + 0.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(pictures):
            ax.imshow(pictures[i], cmap=cmap if pictures[i].ndim == 2 else None, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
