"""The course's data: MNIST and the style-transfer images, found, fetched and verified.

There is one table of data files, `tfcore.datasets.REGISTRY`; this module works on that same object
(`registry`) and adds what lessons need on top of it:

    from course import data
    mnist = data.mnist()                        # Datasets(train, validation, test), one-hot labels
    img = data.load_image("starry_night")       # float32 [H, W, 3] in 0..255
    data.fetch_all()                            # download and verify every file (``course data fetch``)

Lookup order for every file: ``$TFCORE_DATASETS/<folder>/<file>`` (no network when that variable is
set), the user cache (``$TFCORE_CACHE`` or the platform cache folder), then a verified download.
"""

import os
from pathlib import Path

import numpy as np

from tfcore.datasets import (
    REGISTRY,
    DataFileCorruptError,
    DataFileError,
    DataFileMissingError,
    cache_dir,
    datasets_dir,
)

__all__ = [
    "registry",
    "register",
    "names",
    "path",
    "fetch_all",
    "mnist",
    "load_image",
    "cache_dir",
    "datasets_dir",
    "DataFileError",
    "DataFileMissingError",
    "DataFileCorruptError",
]

registry = REGISTRY
"""The registry of every data file: the very object `tfcore.datasets.REGISTRY`."""

register = REGISTRY.register


def names():
    """The logical names of every registered data file (``"mnist/train-images"``, ``"content/bridge"``)."""
    return REGISTRY.names()


def path(name, progress=True):
    """The verified local path (a `pathlib.Path`) of data file `name`, fetching it if needed.

    `name` is a logical name (``"content/bridge"``), a file name (``"bridge.jpg"``) or the last part of a
    logical name (``"bridge"``).
    """
    return REGISTRY.fetch(name, progress=progress)


def fetch_all(progress=True, names=None):
    """Download (where needed) and verify every registered file, or those in `names`.

    Returns a dict of logical name to local path. With `progress`, a tqdm bar counts the files (and each
    download shows its own bar). Raises the first `DataFileError` after trying every file, so one
    missing file does not hide the state of the others.
    """
    entries = REGISTRY.entries() if names is None else [REGISTRY.get(n) for n in names]
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=len(entries), desc="course data", unit="file")
    paths, failures = {}, []
    try:
        for entry in entries:
            if bar is not None:
                bar.set_postfix_str(entry.filename, refresh=True)
            try:
                paths[entry.name] = REGISTRY.fetch(entry, progress=progress)
            except DataFileError as exc:
                failures.append(exc)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if failures:
        if len(failures) > 1:
            others = "; ".join(str(f) for f in failures[1:])
            failures[0].add_note(f"{len(failures) - 1} more file(s) failed too: {others}")
        raise failures[0]
    return paths


def mnist(one_hot=True, **kwargs):
    """MNIST as TF1's ``input_data.read_data_sets`` returns it: ``Datasets(train, validation, test)``.

    `kwargs` go to ``read_data_sets`` (``dtype``, ``reshape``, ``validation_size``, ``seed``).
    """
    from tfcore.examples.tutorials.mnist import input_data

    return input_data.read_data_sets(None, one_hot=one_hot, **kwargs)


def _imread(file):
    """Decode an image file into an array, with matplotlib if installed, else Pillow."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        mpimg = None
    if mpimg is not None:
        return np.asarray(mpimg.imread(file))
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "course.data.load_image needs matplotlib or Pillow to decode images; install one of them "
            "(pip install matplotlib, or pip install Pillow)") from None
    with Image.open(file) as img:
        return np.asarray(img.convert("RGB"))


def _to_rgb_float(image):
    """Turn a decoded image (gray, RGB or RGBA; uint8, uint16 or float in 0..1) into float32 [H, W, 3]
    in 0..255."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim != 3:
        raise ValueError(f"expected an image array [H, W] or [H, W, C], got shape {image.shape}")
    if image.shape[-1] == 1:
        image = np.concatenate([image] * 3, axis=-1)
    elif image.shape[-1] == 2:  # gray + alpha
        image = np.concatenate([image[..., :1]] * 3, axis=-1)
    elif image.shape[-1] >= 4:
        image = image[..., :3]
    if image.dtype == np.uint8:
        scaled = image.astype(np.float32)
    elif image.dtype == np.uint16:
        scaled = image.astype(np.float32) * np.float32(255.0 / 65535.0)
    elif image.dtype.kind == "f":  # matplotlib reads PNGs as floats in 0..1
        scaled = image.astype(np.float32) * np.float32(255.0)
    else:
        scaled = image.astype(np.float32)
    return np.ascontiguousarray(np.clip(scaled, 0.0, 255.0), dtype=np.float32)


def load_image(name):
    """Load a registered image (``"starry_night"``, ``"style/the_scream"``, ``"bridge.jpg"``), or an image
    file at path `name`, as a float32 array [height, width, 3] with values in 0..255.

    Needs matplotlib or Pillow to decode the image (an `ImportError` says which to install).
    """
    try:
        entry = REGISTRY.get(name)
    except KeyError:
        if not os.path.isfile(os.fspath(name)):
            raise
        file = Path(name)
    else:
        file = REGISTRY.fetch(entry)
    return _to_rgb_float(_imread(file))
