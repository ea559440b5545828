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

The pieces live beside this module: `tfcore.datasets.datafile` (the `DataFile` entry and the errors),
`tfcore.datasets.paths` (the two folders), `tfcore.datasets.hashing` (content hashes and ``verified.json``)
and `tfcore.datasets.catalog` (the course's files). This module keeps the `Registry`, the shared
`REGISTRY`, and the in-process verification cache; it re-exports the names of the other four.
"""

import gzip
import os
import re
import zlib
from pathlib import Path

from tfcore.datasets.catalog import MNIST_URL, register_course_files
from tfcore.datasets.datafile import DataFile, DataFileCorruptError, DataFileError, DataFileMissingError
from tfcore.datasets.hashing import content_hash, content_sha256, file_key, sidecar_lookup, sidecar_store
from tfcore.datasets.paths import cache_dir, datasets_dir

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

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_MD5_RE = re.compile(r"^[0-9a-f]{32}$")


# ----------------------------------------------------------------------------------------------------
# The verification cache of this process (in front of verified.json, see tfcore.datasets.hashing)

_VERIFIED = {}  # (resolved path, size, mtime_ns, ctime_ns) -> content sha256, for this process


def _actual_hash(path, algorithm="sha256"):
    """The content digest of `path` (sha256 or md5), from the verification cache when size and mtime are
    unchanged."""
    # content_sha256, content_hash and _VERIFIED are read from this module's globals at each call
    key = file_key(path)
    if algorithm != "sha256":
        key = (f"{algorithm}:{key[0]}", *key[1:])
    digest = _VERIFIED.get(key)
    if digest is None:
        digest = sidecar_lookup(key)
    if digest is None:
        digest = content_sha256(path) if algorithm == "sha256" else content_hash(path, algorithm)
        sidecar_store(key, digest)
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

register_course_files(REGISTRY)
