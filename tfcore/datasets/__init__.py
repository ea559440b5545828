"""The data files tfcore and the course use: one registry, with lookup, download and sha256 verification.

    from tfcore import datasets
    path = datasets.fetch("mnist/train-images")        # a verified local pathlib.Path

Lookup order: ``$TFCORE_DATASETS/<folder>/<file>`` (no network when that variable is set), the user cache
(``$TFCORE_CACHE`` or the platform cache folder for ``tfcore``), then a pooch download into that cache.
See `tfcore.datasets.registry` for the details. Importing this package needs only the standard library;
pooch is imported when a download is needed.
"""

from tfcore.datasets.registry import (
    MNIST_URL,
    REGISTRY,
    DataFile,
    DataFileCorruptError,
    DataFileError,
    DataFileMissingError,
    Registry,
    cache_dir,
    content_sha256,
    datasets_dir,
)

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
    "fetch",
    "get",
    "names",
    "register",
    "verify",
]


def fetch(name, directory=None, url=None, progress=True):
    """The verified local path of data file `name` from the shared registry (see `Registry.fetch`)."""
    return REGISTRY.fetch(name, directory=directory, url=url, progress=progress)


def get(name):
    """The registry entry (`DataFile`) for `name` (see `Registry.get`)."""
    return REGISTRY.get(name)


def names():
    """The logical names of all registered data files."""
    return REGISTRY.names()


def register(name, filename, url, subdir, sha256, download_hash=None, description="", replace=False):
    """Add a data file to the shared registry (see `Registry.register`); returns its `DataFile`."""
    return REGISTRY.register(name, filename, url, subdir, sha256, download_hash=download_hash,
                             description=description, replace=replace)


def verify(path, name):
    """Check the file at `path` against the sha256 of registry entry `name` (see `Registry.verify`)."""
    return REGISTRY.verify(path, name)
