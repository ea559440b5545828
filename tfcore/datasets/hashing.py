"""Content hashes of data files, and ``verified.json``: the record in the cache of hashes already computed.

A file's content hash is that of its decompressed bytes when it is a ``.gz`` file, so that a re-compressed
copy of the same data has the same hash. The record maps a file's (resolved path, size, mtime, ctime) to
its hash, so that `tfcore.datasets.registry` hashes an unchanged file once, even across processes.
"""

import gzip
import hashlib
import json
import os
from pathlib import Path

from tfcore.datasets.paths import cache_dir

__all__ = ["content_hash", "content_sha256", "file_key", "sidecar_lookup", "sidecar_store"]

_CHUNK = 1 << 20
_SIDECAR = "verified.json"


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


def file_key(path):
    """``(resolved path, size, mtime_ns, ctime_ns)`` of `path`: what a remembered hash is valid for."""
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


def sidecar_lookup(key):
    """The digest ``verified.json`` records for `key` (a `file_key`), or None when it has none."""
    # key[0] is the resolved path, prefixed with "md5:" for md5 digests (sha256 ones keep the bare path)
    record = _read_sidecar().get(key[0])
    if isinstance(record, list) and len(record) == 4 and tuple(record[:3]) == key[1:]:
        return record[3] if isinstance(record[3], str) else None
    return None


def sidecar_store(key, sha):
    """Record digest `sha` for `key` in ``verified.json``, dropping the records of files that are gone."""
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
