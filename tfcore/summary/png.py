"""Images for `tf.summary.image`: float pixels to bytes as TF does, and a tiny PNG encoder.

A PNG file is an 8-byte signature followed by chunks, each ``length, type, data, crc32``:
IHDR (size and pixel format), IDAT (the zlib-compressed rows, each prefixed by a filter byte; we
always use filter 0, "none") and IEND.
"""

import struct
import zlib

import numpy as np

from tfcore.summary import proto

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)
_BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)  # TF paints non-finite pixels red
_ZERO_THRESHOLD = 1e-6


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(image):
    """PNG bytes for a uint8 image of shape [height, width, channels], channels 1 to 4."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] not in _COLOR_TYPES or image.dtype != np.uint8:
        raise ValueError(f"encode_png wants a uint8 [height, width, 1-4] image, got "
                         f"{image.dtype} {list(image.shape)}")
    height, width, channels = image.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # column 0: filter "none"
    rows[:, 1:] = image.reshape(height, width * channels)
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes()))
            + _chunk(b"IEND", b""))


def to_uint8(image):
    """One [height, width, channels] image as uint8 pixels, the way TF's image summary does it.

    uint8 images are kept. Float images are scaled per image, ignoring non-finite values:
    if none is negative, ``[0, max] -> [0, 255]`` (times 255/max); otherwise values are scaled by
    127/max|v| and shifted by 128, so 0 lands on 128 and the range on [1, 255]. An image whose
    scale is below 1e-6 comes out black (or 128 gray). Pixels with a NaN or infinity in any
    channel are painted red. Fractions are truncated, as a C cast does.
    """
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind != "f":
        raise TypeError(f"Image summaries take uint8 or float images, not {image.dtype}.")
    finite = np.isfinite(image)
    values = image[finite].astype(np.float32)
    low = values.min() if values.size else np.float32(np.inf)
    high = values.max() if values.size else np.float32(-np.inf)
    if low < 0:
        biggest = max(abs(low), abs(high))
        scale, offset = (0.0 if biggest < _ZERO_THRESHOLD else np.float32(127.0) / biggest), 128.0
    else:
        scale, offset = (0.0 if high < _ZERO_THRESHOLD else np.float32(255.0) / high), 0.0
    # TF does this arithmetic in the image's own float type.
    scale, offset = image.dtype.type(scale), image.dtype.type(offset)
    with np.errstate(invalid="ignore"):
        out = (np.where(finite, image, 0) * scale + offset).astype(np.uint8)
    bad = ~finite.all(axis=-1)
    out[bad] = _BAD_COLOR[:image.shape[-1]]
    return out


def image_protos(images, max_outputs=3):
    """Serialized ``Summary.Image`` messages for the first `max_outputs` images of a batch
    [N, height, width, channels] (channels 1, 3 or 4; uint8 or float)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(images.shape)}")
    result = []
    for picture in images[:max_outputs]:
        pixels = to_uint8(picture)
        height, width, channels = pixels.shape
        result.append(proto.image(height, width, channels, encode_png(pixels)))
    return result
