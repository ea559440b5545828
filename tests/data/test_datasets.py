"""The data registry (`tfcore.datasets`), TF1's `input_data.read_data_sets`, and `course.data`.

Data comes from ``$TFCORE_DATASETS`` (default: ``../shared/datasets`` beside the repository). No test
touches the network: `pooch.retrieve` is replaced by a function that fails the test, except where a test
puts in a fake download of its own.
"""

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import course.data
import tfcore.datasets
from tfcore.datasets import (
    REGISTRY,
    DataFileCorruptError,
    DataFileMissingError,
    Registry,
    content_sha256,
    registry,
)
from tfcore.examples.tutorials.mnist import input_data
from tfcore.framework import dtypes

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TFCORE_DATASETS") or REPO.parent / "shared" / "datasets").resolve()
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
               "t10k-labels-idx1-ubyte.gz"]


def _no_download(*args, **kwargs):
    pytest.fail(f"a network download was attempted: pooch.retrieve{args}")


@pytest.fixture(autouse=True)
def data_env(monkeypatch, tmp_path):
    """Every test: TFCORE_DATASETS at the shared data, a private cache, and no network."""
    assert (SHARED / "mnist" / MNIST_FILES[0]).is_file(), f"test data missing: set TFCORE_DATASETS ({SHARED})"
    monkeypatch.setenv("TFCORE_DATASETS", str(SHARED))
    monkeypatch.setenv("TFCORE_CACHE", str(tmp_path / "cache"))
    pooch = pytest.importorskip("pooch")
    monkeypatch.setattr(pooch, "retrieve", _no_download)


@pytest.fixture(scope="module")
def module_env(tmp_path_factory):
    """TFCORE_DATASETS and a private cache for module-scoped fixtures, and no network."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TFCORE_DATASETS", str(SHARED))
    mp.setenv("TFCORE_CACHE", str(tmp_path_factory.mktemp("cache")))
    try:
        import pooch

        mp.setattr(pooch, "retrieve", _no_download)
    except ImportError:
        pass
    yield
    mp.undo()


@pytest.fixture(scope="module")
def mnist(module_env):
    """MNIST read once for the module, with one-hot labels."""
    return input_data.read_data_sets("MNIST_data/", one_hot=True)


@pytest.fixture(scope="module")
def mnist_uint8(module_env):
    """MNIST as uint8 [N, 28, 28, 1] images and dense uint8 labels."""
    return input_data.read_data_sets(None, dtype=dtypes.uint8, reshape=False)


def _gz(path, payload):
    with gzip.open(path, "wb") as f:
        f.write(payload)
    return path


def _copy_mnist(dst, corrupt=None, data=None):
    """A data root under `dst` with MNIST (symlinks to the shared files); `corrupt` is re-written with
    `data` (decompressed content) so that its gzip is valid but its content differs."""
    folder = dst / "mnist"
    folder.mkdir(parents=True)
    for name in MNIST_FILES:
        if name == corrupt:
            _gz(folder / name, data)
        else:
            os.symlink(SHARED / "mnist" / name, folder / name)
    return dst


# ----------------------------------------------------------------------------------------------------
# read_data_sets


def test_split_sizes_shapes_and_ranges(mnist):
    assert isinstance(mnist, input_data.Datasets)
    assert (mnist.train.num_examples, mnist.validation.num_examples, mnist.test.num_examples) == (
        55000, 5000, 10000)
    for ds, n in ((mnist.train, 55000), (mnist.validation, 5000), (mnist.test, 10000)):
        assert ds.images.shape == (n, 784) and ds.images.dtype == np.float32
        assert ds.labels.shape == (n, 10) and ds.labels.dtype.kind == "f"
        assert ds.images.min() == 0.0 and ds.images.max() == 1.0
        np.testing.assert_array_equal(ds.labels.sum(axis=1), np.ones(n))
        assert set(np.unique(ds.labels)) == {0.0, 1.0}
        assert ds.epochs_completed == 0


def test_known_labels_and_split_order(mnist_uint8):
    # The first ten MNIST training labels; the validation set is the first 5000 training examples.
    np.testing.assert_array_equal(mnist_uint8.validation.labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(mnist_uint8.test.labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    counts = np.bincount(mnist_uint8.test.labels, minlength=10)
    assert counts.sum() == 10000 and counts.min() > 800


def test_uint8_and_reshape_false(mnist_uint8, mnist):
    test = mnist_uint8.test
    assert test.images.shape == (10000, 28, 28, 1) and test.images.dtype == np.uint8
    assert test.images.max() == 255
    assert test.labels.shape == (10000,) and test.labels.dtype == np.uint8
    # the float images are the uint8 ones scaled by 1/255, in the same (not yet shuffled) order
    expected = test.images.reshape(10000, 784).astype(np.float32) * np.float32(1.0 / 255.0)
    np.testing.assert_array_equal(mnist.test.images, expected)
    np.testing.assert_array_equal(np.argmax(mnist.test.labels, axis=1), test.labels)


def test_dtype_forms():
    images = np.zeros((3, 2, 2, 1), np.uint8)
    labels = np.zeros(3, np.uint8)
    for dtype in ("uint8", dtypes.uint8, np.uint8):
        assert input_data.DataSet(images, labels, dtype=dtype).images.dtype == np.uint8
    for dtype in ("float32", "float", dtypes.float32, np.float32):
        assert input_data.DataSet(images, labels, dtype=dtype).images.dtype == np.float32
    with pytest.raises(TypeError, match="Invalid image dtype"):
        input_data.DataSet(images, labels, dtype=dtypes.int32)


def test_next_batch_shapes(mnist):
    images, labels = mnist.train.next_batch(100)
    assert images.shape == (100, 784) and images.dtype == np.float32
    assert labels.shape == (100, 10)
    np.testing.assert_array_equal(labels.sum(axis=1), np.ones(100))


def _tiny(n=10, seed=None):
    """A DataSet whose image i and label i are both i, so order and alignment are visible."""
    images = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1)
    return input_data.DataSet(images, np.arange(n), dtype="uint8", reshape=True, seed=seed)


def test_next_batch_wraps_around_without_shuffle():
    ds = _tiny()
    batches = [ds.next_batch(4, shuffle=False) for _ in range(4)]
    got = [b[1].tolist() for b in batches]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1], [2, 3, 4, 5]]
    for images, labels in batches:
        np.testing.assert_array_equal(images[:, 0], labels)
    assert ds.epochs_completed == 1


def test_next_batch_shuffles_each_epoch_and_wraps():
    ds = _tiny(seed=3)
    b1, b2, b3 = (ds.next_batch(4)[1] for _ in range(3))
    assert ds.epochs_completed == 1
    first_epoch = np.concatenate([b1, b2, b3[:2]])
    assert sorted(first_epoch) == list(range(10))  # rest of epoch 1 ...
    # ... then the start of epoch 2, whose order continues with the next batches
    second_epoch = np.concatenate([b3[2:], ds.next_batch(4)[1], ds.next_batch(4)[1]])
    assert sorted(second_epoch) == list(range(10)) and ds.epochs_completed == 1
    # TF1 seeds NumPy with the seed and shuffles an arange: the same permutation
    perm = np.arange(10)
    rng = np.random.RandomState(3)
    rng.shuffle(perm)
    np.testing.assert_array_equal(first_epoch, perm)
    rng.shuffle(perm)
    np.testing.assert_array_equal(second_epoch, perm)
    # images stay aligned with labels
    images, labels = ds.next_batch(7)
    np.testing.assert_array_equal(images[:, 0], labels)
    # over many epochs the order changes
    orders = {tuple(np.concatenate([ds.next_batch(5)[1], ds.next_batch(5)[1]])) for _ in range(20)}
    assert len(orders) > 1


def test_next_batch_seed_none_follows_numpy_global_seed():
    np.random.seed(7)
    a = _tiny().next_batch(10)[1]
    np.random.seed(7)
    b = _tiny().next_batch(10)[1]
    np.testing.assert_array_equal(a, b)


def test_fake_data():
    ds = input_data.read_data_sets("", fake_data=True, one_hot=True)
    assert ds.train.num_examples == 10000
    images, labels = ds.train.next_batch(3, fake_data=True)
    assert len(images) == 3 and len(images[0]) == 784 and labels[0] == [1] + [0] * 9


def test_validation_size_out_of_range():
    with pytest.raises(ValueError, match="Validation size should be between 0 and 60000"):
        input_data.read_data_sets(None, dtype="uint8", validation_size=60001)


def test_extract_prints_tf_progress_line(capsys):
    path = SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz"
    with open(path, "rb") as f:
        labels = input_data.extract_labels(f, one_hot=True)
    assert labels.shape == (10000, 10)
    assert capsys.readouterr().out == f"Extracting {path}\n"


def test_bad_magic_and_truncated_files(tmp_path):
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    _gz(labels, np.array([2049, 3], ">u4").tobytes() + bytes([1, 2, 3]))
    with open(labels, "rb") as f, pytest.raises(ValueError, match="magic number 2049.*train-labels-idx1"):
        input_data.extract_images(f)
    images = tmp_path / "images.gz"
    _gz(images, np.array([2051, 10, 28, 28], ">u4").tobytes() + bytes(100))
    with open(images, "rb") as f, pytest.raises(ValueError, match=r"images\.gz is truncated"):
        input_data.extract_images(f)
    short = tmp_path / "short.gz"
    _gz(short, np.array([2049], ">u4").tobytes())
    with open(short, "rb") as f, pytest.raises(ValueError, match=r"short\.gz is truncated"):
        input_data.extract_labels(f)
    plain = tmp_path / "plain.gz"
    plain.write_bytes(b"not gzip at all")
    with open(plain, "rb") as f, pytest.raises(ValueError, match=r"plain\.gz is not a readable gzip"):
        input_data.extract_labels(f)


# ----------------------------------------------------------------------------------------------------
# registry: lookup, verification, errors


def test_registry_table():
    assert course.data.registry is REGISTRY is tfcore.datasets.REGISTRY
    assert len(REGISTRY) == 12
    entry = REGISTRY.get("mnist/train-images")
    assert entry.url == "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"
    assert entry.download_hash == "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert entry.sha256 == "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    assert entry.compressed and str(entry.relpath()) == os.path.join("mnist", "train-images-idx3-ubyte.gz")
    assert REGISTRY.get("train-images-idx3-ubyte.gz") is entry
    assert REGISTRY.get("starry_night").subdir == "style/style"
    assert REGISTRY.get("bridge.jpg").subdir == "style/content"
    assert REGISTRY.get("great_wave_hokusai").url.endswith("/examples/style/wave.jpg")
    with pytest.raises(KeyError, match="no data file named"):
        REGISTRY.get("nope")
    assert "bridge" in REGISTRY and "nope" not in REGISTRY


def test_register_rules():
    reg = Registry()
    sha = "0" * 64
    reg.register("x/a", "a.bin", "https://example.invalid/a.bin", "x", sha)
    reg.register("x/a", "a.bin", "https://example.invalid/a.bin", "x", sha)  # identical: fine
    with pytest.raises(ValueError, match="already registered"):
        reg.register("x/a", "a.bin", "https://example.invalid/b.bin", "x", sha)
    reg.register("x/a", "a.bin", "https://example.invalid/b.bin", "x", sha, replace=True)
    with pytest.raises(ValueError, match="64 hex digits"):
        reg.register("x/b", "b.bin", "https://example.invalid/b.bin", "x", "abc")


def test_every_shared_file_verifies():
    for entry in REGISTRY:
        path = tfcore.datasets.fetch(entry.name)
        assert path == SHARED / entry.relpath()
    assert course.data.path("bridge") == SHARED / "style" / "content" / "bridge.jpg"


def test_missing_file_with_tfcore_datasets_set(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path))
    with pytest.raises(DataFileMissingError) as info:
        tfcore.datasets.fetch("mnist/t10k-labels")
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "mnist") in message
    assert isinstance(info.value, OSError) and isinstance(info.value, FileNotFoundError)
    assert info.value.folder == str(tmp_path / "mnist")
    with pytest.raises(DataFileMissingError, match="starry_night.jpg"):
        course.data.load_image("starry_night")


def test_corrupt_copy_is_never_used(tmp_path, monkeypatch):
    # a flipped byte inside the gzip stream: the file cannot even be decompressed
    folder = tmp_path / "flipped" / "mnist"
    folder.mkdir(parents=True)
    damaged = folder / "t10k-labels-idx1-ubyte.gz"
    shutil.copyfile(SHARED / "mnist" / damaged.name, damaged)
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path / "flipped"))
    with pytest.raises(DataFileCorruptError) as info:
        tfcore.datasets.fetch("mnist/t10k-labels")
    assert str(damaged) in str(info.value) and REGISTRY.get("mnist/t10k-labels").sha256 in str(info.value)

    # a valid gzip whose content differs by one byte: the actual hash is named
    content = bytearray(gzip.decompress((SHARED / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes()))
    content[100] = (content[100] + 1) % 10
    root = _copy_mnist(tmp_path / "changed", corrupt="train-labels-idx1-ubyte.gz", data=bytes(content))
    monkeypatch.setenv("TFCORE_DATASETS", str(root))
    with pytest.raises(DataFileCorruptError) as info:
        input_data.read_data_sets("MNIST_data/", one_hot=True)
    err = info.value
    assert err.path == str(root / "mnist" / "train-labels-idx1-ubyte.gz")
    assert err.expected == REGISTRY.get("mnist/train-labels").sha256
    assert err.actual == content_sha256(root / "mnist" / "train-labels-idx1-ubyte.gz") != err.expected
    assert err.path in str(err) and err.expected in str(err) and err.actual in str(err)

    # an image
    style = tmp_path / "img" / "style" / "style"
    style.mkdir(parents=True)
    data = bytearray((SHARED / "style" / "style" / "starry_night.jpg").read_bytes())
    data[-10] ^= 1
    (style / "starry_night.jpg").write_bytes(bytes(data))
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path / "img"))
    with pytest.raises(DataFileCorruptError, match="starry_night.jpg is corrupt"):
        course.data.path("starry_night")


def test_explicit_directory_first_then_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path / "empty"))
    local = tmp_path / "MNIST_data"
    local.mkdir()
    shutil.copyfile(SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz", local / "t10k-labels-idx1-ubyte.gz")
    assert tfcore.datasets.fetch("mnist/t10k-labels", directory=local) == local / "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DataFileMissingError):  # not in the directory: on to TFCORE_DATASETS
        tfcore.datasets.fetch("mnist/t10k-images", directory=local)
    monkeypatch.setenv("TFCORE_DATASETS", str(SHARED))
    assert tfcore.datasets.fetch("mnist/t10k-images", directory=local) == SHARED / "mnist" / MNIST_FILES[2]
    # a corrupt file in the directory is an error, not skipped
    _gz(local / "t10k-labels-idx1-ubyte.gz", b"\x00\x00\x08\x01")
    with pytest.raises(DataFileCorruptError):
        tfcore.datasets.fetch("mnist/t10k-labels", directory=local)


def test_verification_is_cached(tmp_path, monkeypatch):
    copy = tmp_path / "copy" / "mnist"
    copy.mkdir(parents=True)
    target = copy / "t10k-labels-idx1-ubyte.gz"
    shutil.copyfile(SHARED / "mnist" / target.name, target)
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path / "copy"))
    calls = []
    real = registry.content_sha256
    monkeypatch.setattr(registry, "content_sha256", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        assert tfcore.datasets.fetch("mnist/t10k-labels") == target
    assert len(calls) == 1
    monkeypatch.setattr(registry, "_VERIFIED", {})  # a new process: the sidecar in the cache remembers
    tfcore.datasets.fetch("mnist/t10k-labels")
    assert len(calls) == 1 and (tmp_path / "cache" / "verified.json").is_file()
    # a same-size change that puts the old mtime back is still noticed (the ctime moved)
    st = os.stat(target)
    raw = bytearray(target.read_bytes())
    raw[-12] ^= 0x55
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(DataFileCorruptError):
        tfcore.datasets.fetch("mnist/t10k-labels")
    assert len(calls) == 2
    _gz(target, b"other content")  # changed size and mtime: hashed again, and rejected
    with pytest.raises(DataFileCorruptError):
        tfcore.datasets.fetch("mnist/t10k-labels")
    assert len(calls) == 3


def test_cache_then_download_with_fake_pooch(tmp_path, monkeypatch):
    import pooch

    monkeypatch.delenv("TFCORE_DATASETS")
    cache = tmp_path / "cache"
    calls = []

    def fake_retrieve(url, known_hash=None, fname=None, path=None, progressbar=False):
        calls.append((url, known_hash, fname, Path(path), progressbar))
        source = next(e for e in REGISTRY if e.filename == fname)
        shutil.copyfile(SHARED / source.relpath(), Path(path) / fname)
        return str(Path(path) / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    got = tfcore.datasets.fetch("mnist/t10k-labels")
    assert got == cache / "mnist" / "t10k-labels-idx1-ubyte.gz" and got.is_file()
    entry = REGISTRY.get("mnist/t10k-labels")
    assert calls == [(entry.url, entry.download_hash, entry.filename, cache / "mnist", True)]
    assert tfcore.datasets.fetch("mnist/t10k-labels") == got and len(calls) == 1  # from the cache now
    # a download from another mirror is checked by content only
    tfcore.datasets.fetch("content/bridge", url="https://mirror.invalid/bridge.jpg", progress=False)
    assert calls[-1][:2] == ("https://mirror.invalid/bridge.jpg", None)

    def wrong_content(url, known_hash=None, fname=None, path=None, progressbar=False):
        (Path(path) / fname).write_bytes(b"an error page")
        return str(Path(path) / fname)

    monkeypatch.setattr(pooch, "retrieve", wrong_content)
    with pytest.raises(DataFileCorruptError):
        tfcore.datasets.fetch("content/flowers")
    assert not (cache / "style" / "content" / "flowers.jpg").exists()

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataFileMissingError) as info:
        tfcore.datasets.fetch("style/the_scream")
    message = str(info.value)
    assert "the_scream.jpg" in message and REGISTRY.get("the_scream").url in message
    assert str(cache / "style" / "style") in message and "no network" in message


def test_default_cache_dir_is_poochs(monkeypatch):
    import pooch

    monkeypatch.delenv("TFCORE_CACHE")
    assert tfcore.datasets.cache_dir() == Path(pooch.os_cache("tfcore"))


def test_finding_files_imports_no_pooch(tmp_path):
    code = ("import sys, tfcore.datasets as d; d.fetch('mnist/t10k-labels'); "
            "from tfcore.examples.tutorials.mnist import input_data; print('pooch' in sys.modules)")
    env = dict(os.environ, TFCORE_DATASETS=str(SHARED), TFCORE_CACHE=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------------------------------
# course.data


def test_course_fetch_all(tmp_path, monkeypatch):
    paths = course.data.fetch_all(progress=False)
    assert set(paths) == set(REGISTRY.names())
    assert all(p.is_file() for p in paths.values())
    monkeypatch.setenv("TFCORE_DATASETS", str(tmp_path / "nothing"))
    with pytest.raises(DataFileMissingError) as info:
        course.data.fetch_all(progress=True)
    assert "11 more file(s) failed too" in "".join(getattr(info.value, "__notes__", []))


def test_course_mnist():
    ds = course.data.mnist(dtype="uint8")
    assert ds.train.labels.shape == (55000, 10) and ds.train.images.shape == (55000, 784)


def test_course_load_image():
    have_reader = any(_importable(m) for m in ("matplotlib", "PIL"))
    if not have_reader:
        pytest.skip("neither matplotlib nor Pillow is installed")
    image = course.data.load_image("starry_night")
    assert image.shape == (640, 1024, 3) and image.dtype == np.float32
    assert 0.0 <= image.min() and image.max() <= 255.0 and 100 < image.mean() < 120


def test_load_image_without_a_reader(monkeypatch):
    for module in ("matplotlib", "matplotlib.image", "PIL", "PIL.Image"):
        monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match="matplotlib.*Pillow"):
        course.data.load_image("starry_night")


def _importable(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def test_image_conversion(monkeypatch, tmp_path):
    gray = np.array([[0, 128], [255, 3]], np.uint8)
    out = course.data._to_rgb_float(gray)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32 and out[1, 0, 2] == 255.0
    rgba = np.full((2, 3, 4), 0.5, np.float32)  # matplotlib reads PNG as floats in 0..1
    np.testing.assert_allclose(course.data._to_rgb_float(rgba), np.full((2, 3, 3), 127.5))
    monkeypatch.setattr(course.data, "_imread", lambda file: np.zeros((4, 5, 4), np.uint8) + 7)
    image = course.data.load_image("content/columns")
    assert image.shape == (4, 5, 3) and image.dtype == np.float32 and image.max() == 7.0
    own = tmp_path / "photo.jpg"
    own.write_bytes(b"x")
    assert course.data.load_image(own).shape == (4, 5, 3)  # a path of one's own
