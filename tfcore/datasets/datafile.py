"""A registered data file (`DataFile`) and the errors raised when one is missing or corrupt.

`tfcore.datasets.registry` keeps a table of `DataFile` entries and hands out verified local paths; the
errors here are what it raises. Both are re-exported by `tfcore.datasets.registry` and `tfcore.datasets`.
"""

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DataFile",
    "DataFileError",
    "DataFileMissingError",
    "DataFileCorruptError",
]


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
    marks a large file the course runs without (see `tfcore.datasets.registry`).
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
