"""The training photos of fast style transfer (`course.style.fast`, lesson 09): photos read from a
folder or by name, scaled down, and cut into batches of random crops at random scales.

`course.style.fast` re-exports every name here (``fast.read_images``, ``fast.CropSampler``).
"""

import os
from pathlib import Path

import numpy as np

from course.engine import engine_or_default

__all__ = ["IMAGE_SUFFIXES", "read_images", "shrink", "CropSampler"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
"""The image files `read_images` takes from a folder."""


def read_images(source):
    """The training photos as a list of float32 RGB arrays [H, W, 3] in 0..255.

    `source`: a folder (every .jpg/.jpeg/.png in it, sorted), or a list whose items are image arrays,
    files or registered names (``"bridge"``, ``"content/columns"``; see `course.data.load_image`).
    """
    from course import data

    if isinstance(source, str | os.PathLike) and Path(source).is_dir():
        files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"course.style.fast: no {'/'.join(IMAGE_SUFFIXES)} images in folder {source}")
        source = files
    elif isinstance(source, str | os.PathLike | np.ndarray):
        source = [source]
    images = []
    for item in source:
        if isinstance(item, np.ndarray):
            image = np.asarray(item, np.float32)
            if image.ndim != 3 or image.shape[-1] != 3:
                raise ValueError(f"course.style.fast: expected an RGB image [H, W, 3], got shape "
                                 f"{image.shape}")
        else:
            image = data.load_image(os.fspath(item) if isinstance(item, os.PathLike) else item)
        images.append(image)
    if not images:
        raise ValueError("course.style.fast: no training images given")
    return images


def shrink(image, longest, tf=None):
    """`image` (RGB [H, W, 3] in 0..255) scaled down, keeping its aspect ratio, so that its longer side
    is at most `longest` pixels (`tf.image.resize_images` with bilinear interpolation); float32."""
    image = np.asarray(image, np.float32)
    if longest is None or max(image.shape[:2]) <= longest:
        return image
    tf = engine_or_default(tf)
    graph = tf.Graph()
    with graph.as_default():
        resized = tf.image.resize_images(tf.constant(image), [longest, longest], preserve_aspect_ratio=True)
        with tf.Session(graph=graph) as sess:
            return sess.run(resized)


class CropSampler:
    """Batches of random square crops at random scales: each batch takes `batch_size` photos at random,
    one side S for the whole batch (between `crop_size` and twice that, within the smallest photo), and a
    random S x S window of each. The training graph resizes them to `crop_size` (`tf.image.resize_bilinear`).
    """

    def __init__(self, images, batch_size, crop_size, seed=0):
        self.images = images
        self.batch_size = batch_size
        self.crop_size = crop_size
        self.rng = np.random.default_rng(seed)

    def batch(self):
        """float32 [batch_size, S, S, 3]."""
        chosen = [self.images[i] for i in self.rng.integers(0, len(self.images), self.batch_size)]
        smallest = min(min(image.shape[:2]) for image in chosen)
        low = min(self.crop_size, smallest)
        side = int(self.rng.integers(low, min(smallest, 2 * self.crop_size) + 1))
        crops = []
        for image in chosen:
            top = int(self.rng.integers(0, image.shape[0] - side + 1))
            left = int(self.rng.integers(0, image.shape[1] - side + 1))
            crop = image[top:top + side, left:left + side]
            crops.append(crop[:, ::-1] if self.rng.random() < 0.5 else crop)  # random mirror image
        return np.stack(crops).astype(np.float32)
