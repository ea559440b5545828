"""The one registry of every data file the course uses, and the code that finds, fetches and verifies them.

Each entry (`DataFile`) names a file by a logical name (``"mnist/train-images"``), gives its file name, its
canonical URL, the folder it lives in below the data root (``mnist``, ``style/style``, ``style/content``),
the sha256 of its *content* (of the decompressed bytes for a ``.gz`` file, so that a re-compressed copy of
the same data verifies too) and, where known, the hash of the file as downloaded (for pooch).

`Registry.fetch(name)` returns a local path, looking in this order:

1. ``$TFCORE_DATASETS/<folder>/<file>`` when ``TFCORE_DATASETS`` is set. Then nothing touches the network:
   a missing file raises `DataFileMissingError`.
2. The user cache: ``$TFCORE_CACHE/<folder>/<file>``, or the platform's cache folder for ``tfcore``
   (the same folder as ``pooch.os_cache("tfcore")``, e.g. ``~/.cache/tfcore`` on Linux).
3. A download with pooch into that cache (pooch is imported only then), with a progress bar, checking
   the download hash where one is known.

Every path handed out has been checked against its content sha256; a file that does not match raises
`DataFileCorruptError` and is never used. Verification results are remembered per (path, size, mtime,
ctime), in this process and in a small ``verified.json`` in the cache folder, so a file is hashed once.

Two exceptions, both for the VGG19 weight files of lesson 08:

* Where the publisher gives only an md5 of a file (Keras for its VGG19 weights, the neural-style README
  for the MatConvNet file), the entry carries that ``md5`` instead of a sha256 and every copy is
  verified against it the same way (the md5 is also the download check). An entry needs one of the two.
* ``optional`` entries (large files that only one lesson needs, and that lesson runs without them) are
  found, fetched and verified by name like any other, but the registry as a collection (iteration,
  ``len``, `Registry.names`, `Registry.entries`) lists only the files the course needs up front, so that
  ``course data fetch`` does not download half a gigabyte of weights. ``entries(optional=True)`` lists
  them all.
"""

import gzip
import hashlib
import json
import os
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DataFile",
    "DataFileError",
    "DataFileMissingError",
    "DataFileCorruptError",
    "Registry",
    "REGISTRY",
    "MNIST_URL",
    "cache_dir",
    "datasets_dir",
    "content_sha256",
    "content_hash",
]

MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
"""Where the MNIST ``.gz`` files are downloaded from (the mirror TensorFlow's own tutorials used)."""

_GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1 << 20


class DataFileError(OSError):
    """Base class of the data-file errors (an `OSError`, so ``except OSError`` catches them)."""


class DataFileMissingError(DataFileError, FileNotFoundError):
    """A data file is not where it must be, and could not (or must not) be downloaded.

    Attributes: `filename`, `url` (where to download it) and `folder` (where to put it).
    """

    def __init__(self, message, filename=None, url=None, folder=None):
        super().__init__(message)
        self.filename = filename
        self.url = url
        self.folder = folder

    def __str__(self):
        return self.args[0]


class DataFileCorruptError(DataFileError):
    """A data file's content does not match its known sha256; it is never used.

    Attributes: `path`, `expected` and `actual` (hashes, or a description of why it could not be read).
    """

    def __init__(self, message, path=None, expected=None, actual=None):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class DataFile:
    """One registered data file.

    `name` is the logical name, `filename` the file's name on disk, `url` its canonical download URL,
    `subdir` the folder below the data root (``"mnist"``), `sha256` the hash of its content (decompressed
    for ``.gz`` files), `download_hash` the hash of the file as downloaded in pooch's form
    (``"md5:..."``/``"sha256:..."``, or None when unknown) and `description` a line for people.
    `md5` is the content md5, given instead of `sha256` only where the publisher gives no sha256; `optional`
    marks a large file the course runs without (see the module docstring).
    """

    name: str
    filename: str
    url: str
    subdir: str
    sha256: str | None
    download_hash: str | None = None
    description: str = ""
    md5: str | None = None
    optional: bool = False

    @property
    def content_hash(self):
        """``(algorithm, hex digest)`` every copy is verified against: the sha256, else the md5."""
        return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5)

    @property
    def compressed(self):
        """True for a gzip file, whose `sha256` is that of the decompressed bytes."""
        return self.filename.endswith(".gz")

    def relpath(self):
        """The file's path below a data root, e.g. ``mnist/train-images-idx3-ubyte.gz``."""
        return Path(*self.subdir.split("/"), self.filename)


# ----------------------------------------------------------------------------------------------------
# Folders


def datasets_dir():
    """The folder named by ``$TFCORE_DATASETS`` (a Path), or None when it is not set."""
    value = os.environ.get("TFCORE_DATASETS")
    return Path(value).expanduser() if value else None


def _platform_cache_root(appname):
    try:  # what pooch.os_cache uses; importing it does not import pooch
        import platformdirs
    except ImportError:
        platformdirs = None
    if platformdirs is not None:
        return Path(platformdirs.user_cache_dir(appname))
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / appname / appname / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / appname
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(home / ".cache")
    return Path(base) / appname


def cache_dir():
    """The user cache folder: ``$TFCORE_CACHE`` if set, else the folder ``pooch.os_cache("tfcore")`` names."""
    value = os.environ.get("TFCORE_CACHE")
    if value:
        return Path(value).expanduser()
    return _platform_cache_root("tfcore")


# ----------------------------------------------------------------------------------------------------
# Hashing and the verification cache


def content_sha256(path):
    """The sha256 (hex) of a file's content: of the decompressed bytes for a ``.gz`` file.

    Raises `OSError`, `EOFError` or `zlib.error` when a gzip file cannot be decompressed.
    """
    return content_hash(path, "sha256")


def content_hash(path, algorithm="sha256"):
    """The hex digest of a file's content with `algorithm` (``"sha256"`` or ``"md5"``), of the decompressed
    bytes for a ``.gz`` file (raises as `content_sha256` does)."""
    digest = hashlib.new(algorithm)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


_VERIFIED = {}  # (resolved path, size, mtime_ns, ctime_ns) -> content sha256, for this process
_SIDECAR = "verified.json"


def _file_key(path):
    # ctime changes on every write, even one that restores the mtime, so a changed file is re-hashed.
    st = os.stat(path)
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _sidecar_path():
    return cache_dir() / _SIDECAR


def _read_sidecar():
    try:
        with open(_sidecar_path(), encoding="utf-8") as f:
            table = json.load(f)
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _sidecar_lookup(key):
    # key[0] is the resolved path, prefixed with "md5:" for md5 digests (sha256 ones keep the bare path)
    record = _read_sidecar().get(key[0])
    if isinstance(record, list) and len(record) == 4 and tuple(record[:3]) == key[1:]:
        return record[3] if isinstance(record[3], str) else None
    return None


def _sidecar_store(key, sha):
    sidecar = _sidecar_path()
    table = {path: record for path, record in _read_sidecar().items()
             if os.path.exists(path.removeprefix("md5:"))}
    table[key[0]] = [*key[1:], sha]
    try:
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        tmp = sidecar.with_name(f"{_SIDECAR}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(table, f, indent=0, sort_keys=True)
        os.replace(tmp, sidecar)
    except OSError:
        pass  # a read-only cache only costs a re-hash next time


def _actual_hash(path, algorithm="sha256"):
    """The content digest of `path` (sha256 or md5), from the verification cache when size and mtime are
    unchanged."""
    key = _file_key(path)
    if algorithm != "sha256":
        key = (f"{algorithm}:{key[0]}", *key[1:])
    digest = _VERIFIED.get(key)
    if digest is None:
        digest = _sidecar_lookup(key)
    if digest is None:
        digest = content_sha256(path) if algorithm == "sha256" else content_hash(path, algorithm)
        _sidecar_store(key, digest)
    _VERIFIED[key] = digest
    return digest


# ----------------------------------------------------------------------------------------------------
# The registry


class Registry:
    """A table of `DataFile` entries by logical name, with `fetch` to get a verified local copy."""

    def __init__(self, entries=()):
        self._entries = {}
        for entry in entries:
            self._add(entry)

    # -- the table ------------------------------------------------------------------------------------

    def register(self, name, filename, url, subdir, sha256, download_hash=None, description="",
                 replace=False, md5=None, optional=False):
        """Add an entry and return it (a `DataFile`).

        `sha256` is the hash of the content (decompressed for ``.gz``) and is required (every file handed
        out is verified), except that where the publisher gives only an md5, `sha256` is None and `md5`
        the content md5. `optional` marks a large file the course runs without. Registering the same
        name again raises `ValueError` unless the entry is identical or `replace` is true.
        """
        entry = DataFile(name=name, filename=filename, url=url, subdir=subdir.strip("/"),
                         sha256=sha256.lower() if sha256 else None, download_hash=download_hash,
                         description=description, md5=md5.lower() if md5 else None, optional=bool(optional))
        return self._add(entry, replace=replace)

    def _add(self, entry, replace=False):
        if entry.sha256 is None and entry.md5 is not None:
            if not _MD5_RE.match(entry.md5):
                raise ValueError(f"data file {entry.name!r}: md5 must be 32 hex digits, got {entry.md5!r}")
        elif entry.sha256 is None or not _SHA256_RE.match(entry.sha256):
            raise ValueError(f"data file {entry.name!r}: sha256 must be 64 hex digits, got {entry.sha256!r} "
                             "(an md5 instead only where no sha256 is published)")
        if not entry.filename or "/" in entry.filename or "\\" in entry.filename:
            raise ValueError(f"data file {entry.name!r}: bad file name {entry.filename!r}")
        old = self._entries.get(entry.name)
        if old is not None and old != entry and not replace:
            raise ValueError(f"data file {entry.name!r} is already registered (as {old}); "
                             "pass replace=True to change it")
        self._entries[entry.name] = entry
        return entry

    def get(self, name):
        """The `DataFile` for `name`: a logical name (``"mnist/train-images"``), a file name
        (``"train-images-idx3-ubyte.gz"``) or the last part of a logical name (``"starry_night"``)."""
        if isinstance(name, DataFile):
            return name
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        for key in (lambda e: e.filename, lambda e: e.name.rsplit("/", 1)[-1]):
            matches = [e for e in self._entries.values() if key(e) == name]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise KeyError(f"{name!r} is ambiguous: it matches {sorted(e.name for e in matches)}")
        raise KeyError(f"no data file named {name!r}; known: {', '.join(self.names())}")

    def names(self, optional=False):
        """The logical names, in registration order (with `optional`, the optional files' too)."""
        return [entry.name for entry in self.entries(optional)]

    def entries(self, optional=False):
        """The `DataFile` entries, in registration order (with `optional`, the optional files too)."""
        return [entry for entry in self._entries.values() if optional or not entry.optional]

    def __contains__(self, name):
        try:
            self.get(name)
        except KeyError:
            return False
        return True

    def __iter__(self):
        return iter(self.entries())

    def __len__(self):
        return len(self.entries())

    def __repr__(self):
        return f"<Registry of {len(self)} data files>"

    # -- verification ---------------------------------------------------------------------------------

    def verify(self, path, name):
        """Check the file at `path` against the content sha256 (or md5) of entry `name`; return `path`.

        Raises `DataFileCorruptError` (naming the path, the expected and the actual hash) on a mismatch or
        when a ``.gz`` file cannot be decompressed.
        """
        entry = self.get(name)
        algorithm, expected = entry.content_hash
        path = Path(path)
        try:
            actual = _actual_hash(path, algorithm)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            actual = f"unreadable ({type(exc).__name__}: {exc})"
        except OSError as exc:
            if not path.exists():
                raise
            actual = f"unreadable ({type(exc).__name__}: {exc})"
        if actual != expected:
            what = "decompressed content" if entry.compressed else "content"
            raise DataFileCorruptError(
                f"data file {path} is corrupt: the {algorithm} of its {what} should be {expected} but is "
                f"{actual}. It was not used. Delete it and fetch a fresh copy from {entry.url}.",
                path=str(path), expected=expected, actual=actual)
        return path

    # -- lookup ---------------------------------------------------------------------------------------

    def fetch(self, name, directory=None, url=None, progress=True):
        """Return the local path (a `pathlib.Path`) of data file `name`, verified against its sha256.

        `directory`, when given, is looked at first (as classic ``read_data_sets("MNIST_data/")`` does):
        a file of that name there is used (after verification). Then ``$TFCORE_DATASETS`` (no network when
        it is set), the user cache and a download into the cache, in that order. `url` overrides the
        download URL (the content must still match). `progress` shows a download progress bar.
        """
        entry = self.get(name)
        if directory is not None:
            candidate = Path(directory).expanduser() / entry.filename
            if candidate.is_file():
                return self.verify(candidate, entry)
        root = datasets_dir()
        if root is not None:
            candidate = root / entry.relpath()
            if candidate.is_file():
                return self.verify(candidate, entry)
            folder = candidate.parent
            raise DataFileMissingError(
                f"data file {entry.filename!r} ({entry.name}) is missing: TFCORE_DATASETS={root} is set, so "
                f"it must be at {candidate} and nothing is downloaded. Download it from {url or entry.url} "
                f"and put it in the folder {folder}{os.sep} (or unset TFCORE_DATASETS to use the user cache "
                f"and download it automatically).",
                filename=entry.filename, url=url or entry.url, folder=str(folder))
        cached = cache_dir() / entry.relpath()
        if cached.is_file():
            return self.verify(cached, entry)
        return self._download(entry, cached, url, progress)

    def _download(self, entry, target, url, progress):
        source = url or entry.url
        folder = target.parent

        def missing(reason, cause=None):
            err = DataFileMissingError(
                f"data file {entry.filename!r} ({entry.name}) is not available and {reason}. Download it "
                f"from {source} and put it in the folder {folder}{os.sep} (or in <dir>{os.sep}"
                f"{entry.subdir.replace('/', os.sep)}{os.sep} with TFCORE_DATASETS=<dir>).",
                filename=entry.filename, url=source, folder=str(folder))
            err.__cause__ = cause
            return err

        try:
            import pooch
        except ImportError as exc:
            raise missing("pooch, which downloads it, is not installed (pip install pooch)", exc) from exc
        known_hash = entry.download_hash if url is None or url == entry.url else None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            downloaded = pooch.retrieve(source, known_hash=known_hash, fname=entry.filename, path=folder,
                                        progressbar=progress)
        except ValueError as exc:  # pooch's hash check of the download
            if "hash" in str(exc).lower():
                raise DataFileCorruptError(
                    f"the download of {entry.filename!r} from {source} did not match its known hash "
                    f"{known_hash}; it was not kept. ({exc})",
                    path=str(target), expected=known_hash, actual=None) from exc
            raise missing(f"the download from {source} failed ({type(exc).__name__}: {exc})", exc) from exc
        except Exception as exc:  # no network, HTTP errors, unwritable cache, ...
            raise missing(f"the download from {source} failed ({type(exc).__name__}: {exc})", exc) from exc
        downloaded = Path(downloaded)
        try:
            return self.verify(downloaded, entry)
        except DataFileCorruptError:
            try:
                downloaded.unlink()
            except OSError:
                pass
            raise


# ----------------------------------------------------------------------------------------------------
# The course's data files

REGISTRY = Registry()
"""The registry every part of tfcore and the course uses (``course.data`` reuses this object)."""


def _mnist(part, filename, md5, sha256, what):
    REGISTRY.register(f"mnist/{part}", filename, MNIST_URL + filename, "mnist", sha256,
                      download_hash=f"md5:{md5}", description=f"MNIST {what} (IDX, gzip; CC BY-SA 3.0)")


_mnist("train-images", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
       "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", "training images, 60000x28x28")
_mnist("train-labels", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
       "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "training labels, 60000")
_mnist("t10k-images", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
       "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", "test images, 10000x28x28")
_mnist("t10k-labels", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
       "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", "test labels, 10000")


def _image(kind, stem, filename, repo, commit, path, sha256, what):
    url = _GITHUB_RAW.format(repo=repo, commit=commit, path=path)
    REGISTRY.register(f"{kind}/{stem}", filename, url, f"style/{kind}", sha256,
                      download_hash=f"sha256:{sha256}", description=what)


_NEURAL_STYLE = "jcjohnson/neural-style"
for _stem, _commit, _sha, _what in (
    ("starry_night", "3e0b4cfea7518c95ddb3be897848d081ab1e6532",
     "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098", "Van Gogh, The Starry Night (1889)"),
    ("the_scream", "f96c853fbd4f82864a13071273ad3b49e1933e9f",
     "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee", "Munch, The Scream (1893)"),
    ("shipwreck", "87b08a91631fa4b5aec206f41af6bec31b1f445e",
     "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
     "Turner, The Shipwreck of the Minotaur (c.1810)"),
):
    _image("style", _stem, f"{_stem}.jpg", _NEURAL_STYLE, _commit, f"examples/inputs/{_stem}.jpg", _sha,
           f"{_what}; public domain")
_image("style", "great_wave_hokusai", "great_wave_hokusai.jpg", "lengstrom/fast-style-transfer",
       "eb413b348902be82efc20c1e347e96c1b9e4a7fd", "examples/style/wave.jpg",
       "54f19686bea5117c0bb68ce4425dbed4efafa3e8d7cafe35f0fae80b8223f4be",
       "Hokusai, The Great Wave off Kanagawa (c.1831); public domain")

_MAX_SAMPLES = ("IBM/MAX-Fast-Neural-Style-Transfer", "c21024f25c969d21eb8076b7d216e21b5d62c151")
for _stem, _sha, _what in (
    ("bridge", "fe8b8277e67ab955279bf1bc4fcc113ca53e560667a3c290a92978f5b5b54800", "Golden Gate Bridge"),
    ("columns", "fc140ce41b9cbed5d5d43533ecb9f58c5b67b785336bedf0af7b4a9f93340c67", "concrete pillars"),
    ("beach-city", "08dcae1fafb2c55b48f57d3c4d2fc5b3c1b48f706500dfc2776a0efb59724935", "city by a beach"),
    ("flowers", "99f0c9b354de03355b0c7d126b1d93cbfc82443551e2bf5de019d039e1902762", "blue flowers"),
):
    _image("content", _stem, f"{_stem}.jpg", _MAX_SAMPLES[0], _MAX_SAMPLES[1], f"samples/{_stem}.jpg", _sha,
           f"photo: {_what} (Pexels, CC0)")
del _stem, _commit, _sha, _what


# VGG19's convolutional part for lesson 08 (optional: the lesson runs on random weights without them).
# Keras publishes only the md5 of its file (keras.applications.vgg19, file_hash); the neural-style README
# gives the md5 of the MatConvNet file (the current "new format" version its vgg.py reads).
REGISTRY.register(
    "vgg19/keras-notop", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg19", None,
    download_hash="md5:253f8cb515780f3b799900260a226db6", md5="253f8cb515780f3b799900260a226db6",
    optional=True, description="VGG19 convolutional weights (Keras, HDF5, 80 MB; Simonyan and Zisserman, "
    "CC BY 4.0)")
REGISTRY.register(
    "vgg19/matconvnet", "imagenet-vgg-verydeep-19.mat",
    "https://www.vlfeat.org/matconvnet/models/imagenet-vgg-verydeep-19.mat", "vgg19", None,
    download_hash="md5:106118b7cf60435e6d8e04f6a6dc3657", md5="106118b7cf60435e6d8e04f6a6dc3657",
    optional=True, description="VGG19 (MatConvNet .mat, 510 MB, what anishathalye/neural-style reads; "
    "Simonyan and Zisserman, CC BY 4.0)")
