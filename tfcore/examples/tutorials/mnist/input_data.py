"""MNIST for the classic TensorFlow 1 tutorials: ``input_data.read_data_sets("MNIST_data/", one_hot=True)``.

Behaves as TF1's ``tensorflow.examples.tutorials.mnist.input_data``: the four IDX ``.gz`` files are read
with NumPy, split 55000 / 5000 / 10000 into train / validation / test, and served by `DataSet.next_batch`,
which shuffles each epoch and wraps around. The files are found through `tfcore.datasets` (the given
directory first, then ``$TFCORE_DATASETS``, the user cache, a download) and verified against their sha256.
"""

import collections
import gzip
import zlib

import numpy as np

from tfcore.datasets import MNIST_URL, REGISTRY
from tfcore.framework import dtypes

__all__ = [
    "DEFAULT_SOURCE_URL",
    "DataSet",
    "Datasets",
    "dense_to_one_hot",
    "extract_images",
    "extract_labels",
    "maybe_download",
    "read_data_sets",
]

DEFAULT_SOURCE_URL = MNIST_URL

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


# ----------------------------------------------------------------------------------------------------
# IDX parsing


def _file_name(f):
    return getattr(f, "name", None) or repr(f)


def _read_idx(f, magic_expected, ndim, what):
    """The header dimensions and the uint8 payload of one gzip IDX file, checked for magic and length."""
    name = _file_name(f)
    try:
        content = gzip.decompress(f.read())
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"MNIST {what} file {name} is not a readable gzip file "
                         f"({type(exc).__name__}: {exc})") from exc
    header_size = 4 * (1 + ndim)
    if len(content) < 4:
        raise ValueError(f"MNIST {what} file {name} is empty or truncated (no IDX header)")
    magic = int(np.frombuffer(content[:4], dtype=">u4")[0])
    if magic != magic_expected:
        raise ValueError(f"Invalid magic number {magic} in MNIST {what} file: {name} "
                         f"(expected {magic_expected})")
    if len(content) < header_size:
        raise ValueError(f"MNIST {what} file {name} is truncated inside its IDX header")
    dims = [int(d) for d in np.frombuffer(content[4:header_size], dtype=">u4")]
    count = int(np.prod(dims))
    buf = memoryview(content)[header_size:header_size + count]
    if len(buf) < count:
        raise ValueError(f"MNIST {what} file {name} is truncated: its header announces "
                         f"{'x'.join(map(str, dims))} = {count} bytes of data but it holds {len(buf)}")
    return dims, np.frombuffer(buf, dtype=np.uint8)


def extract_images(f):
    """Read a gzip IDX image file (an open binary file) into a uint8 array [index, y, x, depth=1].

    Raises `ValueError`, naming the file, when the magic number is not 2051 or the file is truncated.
    """
    print("Extracting", _file_name(f))
    (num, rows, cols), data = _read_idx(f, _IMAGES_MAGIC, 3, "image")
    return data.reshape(num, rows, cols, 1)


def dense_to_one_hot(labels_dense, num_classes):
    """Turn class labels [N] into one-hot rows [N, num_classes] (float64, as TF1's helper made them)."""
    labels_dense = np.asarray(labels_dense)
    num_labels = labels_dense.shape[0]
    labels_one_hot = np.zeros((num_labels, num_classes))
    labels_one_hot.flat[np.arange(num_labels) * num_classes + labels_dense.ravel()] = 1
    return labels_one_hot


def extract_labels(f, one_hot=False, num_classes=10):
    """Read a gzip IDX label file (an open binary file) into uint8 labels [index], or one-hot rows.

    Raises `ValueError`, naming the file, when the magic number is not 2049 or the file is truncated.
    """
    print("Extracting", _file_name(f))
    _, labels = _read_idx(f, _LABELS_MAGIC, 1, "label")
    if one_hot:
        return dense_to_one_hot(labels, num_classes)
    return labels


# ----------------------------------------------------------------------------------------------------
# DataSet


def _image_dtype(dtype):
    """The tfcore DType for `dtype` (a tfcore or TF dtype, a NumPy dtype or a name); uint8 or float32."""
    try:
        resolved = dtypes.as_dtype(dtype)
    except TypeError:
        name = getattr(dtype, "name", None)
        if not isinstance(name, str):
            raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32") from None
        resolved = dtypes.as_dtype(name)
    resolved = resolved.base_dtype
    if resolved not in (dtypes.uint8, dtypes.float32):
        raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
    return resolved


class DataSet:
    """Images and labels with `next_batch`, as TF1's ``mnist.DataSet``.

    `images` is uint8 [N, rows, cols, 1]; with `reshape` it becomes [N, rows*cols], and with dtype float32
    (the default) it is scaled to [0, 1]. `seed` makes the shuffling repeatable (without it, NumPy's
    global random state is used, so ``np.random.seed`` controls it). With `fake_data`, `next_batch` returns
    batches of constant fake examples.
    """

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=dtypes.float32, reshape=True,
                 seed=None):
        dtype = _image_dtype(dtype)
        self._rng = np.random if seed is None else np.random.RandomState(seed)
        if fake_data:
            self._num_examples = 10000
            self.one_hot = one_hot
        else:
            images = np.asarray(images)
            labels = np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim != 4 or images.shape[3] != 1:
                    raise ValueError(f"reshape needs images of shape [N, rows, cols, 1], got {images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == dtypes.float32:
                images = images.astype(np.float32)
                np.multiply(images, 1.0 / 255.0, out=images)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        """All images, in the current (shuffled) order."""
        return self._images

    @property
    def labels(self):
        """All labels, in the same order as `images`."""
        return self._labels

    @property
    def num_examples(self):
        """The number of examples."""
        return self._num_examples

    @property
    def epochs_completed(self):
        """How many times `next_batch` has gone past the end of the data."""
        return self._epochs_completed

    def _shuffle(self):
        perm = np.arange(self._num_examples)
        self._rng.shuffle(perm)
        self._images = self._images[perm]
        self._labels = self._labels[perm]

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """Return the next `batch_size` examples as (images, labels).

        The data is shuffled before the first epoch and at the start of each following one (when
        `shuffle`); a batch that crosses the end of an epoch is the rest of that epoch followed by the
        start of the next one.
        """
        if fake_data:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return [fake_image for _ in range(batch_size)], [fake_label for _ in range(batch_size)]
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size > self._num_examples:
            self._epochs_completed += 1
            rest = self._num_examples - start
            images_rest = self._images[start:self._num_examples]
            labels_rest = self._labels[start:self._num_examples]
            if shuffle:
                self._shuffle()
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[0:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[0:end]), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]


# ----------------------------------------------------------------------------------------------------
# Loading


def maybe_download(filename, work_directory, source_url):
    """The verified local path (a str) of MNIST file `filename`: from `work_directory` if it is there,
    else through the `tfcore.datasets` registry (``$TFCORE_DATASETS``, the cache, a download from
    `source_url`)."""
    return str(REGISTRY.fetch(filename, directory=work_directory, url=source_url))


def _load(filename, train_dir, source_url, reader, **kwargs):
    url = None
    if source_url and source_url != DEFAULT_SOURCE_URL:
        url = source_url + filename
    path = REGISTRY.fetch(filename, directory=train_dir, url=url)
    with open(path, "rb") as f:
        return reader(f, **kwargs)


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=dtypes.float32, reshape=True,
                   validation_size=5000, seed=None, source_url=DEFAULT_SOURCE_URL):
    """Load MNIST as ``Datasets(train, validation, test)`` of `DataSet`, as TF1's tutorial helper does.

    The four ``.gz`` files are taken from `train_dir` when they are there (None: skip that step), else
    from ``$TFCORE_DATASETS``, the user cache or a download (see `tfcore.datasets`); every file is
    verified against its sha256. The first `validation_size` training examples become the validation
    set. Images are float32 [N, 784] in [0, 1] (uint8 0..255 with ``dtype=uint8``; [N, 28, 28, 1] with
    ``reshape=False``); labels are uint8 [N], or float one-hot [N, 10] with `one_hot`.
    """
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)

        return Datasets(train=fake(), validation=fake(), test=fake())
    if not source_url:
        source_url = DEFAULT_SOURCE_URL
    _image_dtype(dtype)  # fail before reading anything

    train_images = _load(TRAIN_IMAGES, train_dir, source_url, extract_images)
    train_labels = _load(TRAIN_LABELS, train_dir, source_url, extract_labels, one_hot=one_hot)
    test_images = _load(TEST_IMAGES, train_dir, source_url, extract_images)
    test_labels = _load(TEST_LABELS, train_dir, source_url, extract_labels, one_hot=one_hot)

    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")

    validation_images = train_images[:validation_size]
    validation_labels = train_labels[:validation_size]
    train_images = train_images[validation_size:]
    train_labels = train_labels[validation_size:]

    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    train = DataSet(train_images, train_labels, **options)
    validation = DataSet(validation_images, validation_labels, **options)
    test = DataSet(test_images, test_labels, **options)
    return Datasets(train=train, validation=validation, test=test)
