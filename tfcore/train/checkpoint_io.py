"""Checkpoint storage: the files behind a V2 checkpoint prefix, written atomically and read back checked.

`tf.train.Saver` calls this module; it knows nothing about graphs. A checkpoint is a dict that maps
tensor names (TF's checkpoint keys, e.g. ``"layer1/weights"``) to NumPy arrays. A prefix such as
``/dir/model.ckpt-1000`` names the same files TensorFlow writes:

* ``<prefix>.data-00000-of-00001``: the tensor bytes;
* ``<prefix>.index``: what is in the data file, and checksums for all of it.

The bytes inside the files are tfcore's own format (TensorFlow cannot read them, nor tfcore
TensorFlow's). All integers are little-endian.

Data file
    ``b"TFCKDAT1"`` (8 bytes), then the 16-byte write id of the save that wrote it, then each tensor's
    payload, back to back, in the order of the sorted tensor names. A numeric or bool tensor's
    payload is its C-order array bytes, little-endian. A string tensor's payload is ``n`` uint64
    byte lengths (``n`` = number of elements) followed by the elements' bytes concatenated (``str``
    elements are stored UTF-8 encoded; they read back as ``bytes``, as TF string tensors do).

Index file
    ``b"TFCKIDX1"`` (8 bytes), the uint64 length ``L`` of a JSON document, the 32-byte SHA-256 of
    that JSON, then the JSON itself (UTF-8); the file is exactly ``48 + L`` bytes. The JSON is::

        {"format": "tfcore-checkpoint", "version": 1, "write_id": "<32 hex digits>",
         "num_shards": 1, "data_size": <bytes in the data file>,
         "tensors": {"<name>": {"dtype": "float32", "shape": [2, 3], "offset": 24,
                                "length": 24, "crc32": <zlib.crc32 of the payload>}, ...}}

    Dtype names are NumPy's (``float16/32/64``, ``int8/16/32/64``, ``uint8/16/32/64``, ``bool``,
    ``complex64/128``) plus ``string``.

Reading checks everything: the magics, the index checksum, that the data file carries the write id
the index names and has exactly ``data_size`` bytes, and every tensor's CRC-32. Any failure raises
`DataLossError` naming the file and the fault; a prefix with no files at all raises `NotFoundError`.

Atomicity. `write_checkpoint` writes both files under temporary names in the same directory
(``.<basename>.<suffix>.<pid>.<random>.tmp``: hidden, and never read), flushes and fsyncs them,
then renames them into place with `os.replace`: the data file first, the index last. Renaming the
index is the commit point, and the directory is fsynced after each rename. A same-prefix rewrite
first keeps the committed data file under a second name (a hard link,
``.<basename>.data-00000-of-00001.<write id>.prev``), so that in the moment between the two renames
the old index, whose write id no longer matches the new data file, still finds its own data
there. So a process killed at any instant leaves every checkpoint whose index was committed fully
readable, with either its old or its new contents, never a mix. The next successful write of a
prefix removes its ``.prev`` files and the temporary files of writers that are gone (their pid is
no longer running, or the file is older than `STALE_TEMP_SECONDS`). Two processes writing the
same prefix at the same time is not supported (nor is it in TensorFlow).

The work is shared with two modules beside this one: `checkpoint_format` encodes and checks the bytes
(tensor payloads, the index) and `checkpoint_files` names the files and makes the atomic writes. This
module writes and reads whole checkpoints, and re-exports the public names of both.
"""

import glob
import os
import zlib

import numpy as np

from tfcore.framework.errors import DataLossError, NotFoundError
from tfcore.train.checkpoint_files import (
    DATA_SUFFIX,
    INDEX_SUFFIX,
    META_SUFFIX,
    STALE_TEMP_SECONDS,
    atomic_write_bytes,
    backup_path,
    data_path,
    fsync_directory,
    index_path,
    remove_backups,
    remove_quietly,
    remove_stale_temp_files,
    temp_path_for,
)
from tfcore.train.checkpoint_format import (
    DATA_HEADER_SIZE,
    DATA_MAGIC,
    FORMAT_NAME,
    FORMAT_VERSION,
    INDEX_MAGIC,
    STRING_DTYPE,
    SUPPORTED_DTYPES,
    WRITE_ID_BYTES,
    corrupt,
    decode_index,
    decode_tensor,
    encode_index,
    encode_tensor,
    truncated,
)

__all__ = [
    "DATA_MAGIC",
    "DATA_SUFFIX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INDEX_MAGIC",
    "INDEX_SUFFIX",
    "META_SUFFIX",
    "STALE_TEMP_SECONDS",
    "STRING_DTYPE",
    "SUPPORTED_DTYPES",
    "atomic_write_bytes",
    "checkpoint_exists",
    "data_path",
    "fsync_directory",
    "index_path",
    "list_checkpoint",
    "read_checkpoint",
    "remove_checkpoint",
    "remove_stale_temp_files",
    "temp_path_for",
    "write_checkpoint",
]

_READ_CHUNK = 1 << 24


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _read_committed_write_id(prefix):
    """Write id (hex) of the index currently committed under `prefix`, or None if there is none valid."""
    try:
        return _load_index(os.fspath(prefix))["write_id"]
    except (NotFoundError, DataLossError):
        return None


def _data_file_write_id(path):
    try:
        with open(path, "rb") as f:
            header = f.read(DATA_HEADER_SIZE)
    except OSError:
        return None
    if len(header) != DATA_HEADER_SIZE or header[: len(DATA_MAGIC)] != DATA_MAGIC:
        return None
    return header[len(DATA_MAGIC) :].hex()


def _keep_committed_data(prefix):
    """Before the data file is replaced, make sure the committed index's data survives as a .prev file."""
    committed = _read_committed_write_id(prefix)
    if committed is None:
        return
    backup = backup_path(prefix, committed)
    if os.path.exists(backup):
        return
    current = data_path(prefix)
    if _data_file_write_id(current) != committed:
        return  # the committed checkpoint's data is gone already; nothing to keep
    try:
        os.link(current, backup)
    except OSError:  # no hard links here: copy it instead, atomically
        with open(current, "rb") as src:
            tmp = temp_path_for(backup)
            try:
                with open(tmp, "xb") as dst:
                    while chunk := src.read(_READ_CHUNK):
                        dst.write(chunk)
                    dst.flush()
                    os.fsync(dst.fileno())
                os.replace(tmp, backup)
            except BaseException:
                remove_quietly(tmp)
                raise
    fsync_directory(os.path.dirname(backup))


def _write_data_file(path, write_id, encoded):
    """Write the data file of `encoded` tensors to new file `path`, fsynced: (index entries, size)."""
    entries = {}
    with open(path, "xb") as f:
        f.write(DATA_MAGIC + write_id)
        offset = DATA_HEADER_SIZE
        for name, dtype_name, shape, payload in encoded:
            length = memoryview(payload).nbytes
            if length:
                f.write(payload)
            entries[name] = {
                "dtype": dtype_name,
                "shape": shape,
                "offset": offset,
                "length": length,
                "crc32": zlib.crc32(payload),
            }
            offset += length
        f.flush()
        os.fsync(f.fileno())
    return entries, offset


def _write_index_file(path, write_id, data_size, entries):
    """Write the index of a data file (`data_size` bytes, `entries`) to new file `path`, fsynced."""
    header, body = encode_index(write_id, data_size, entries)
    with open(path, "xb") as f:
        f.write(header)
        f.write(body)
        f.flush()
        os.fsync(f.fileno())


def write_checkpoint(prefix, tensors):
    """Write `tensors` (name -> array) as checkpoint `prefix`, atomically (see the module docstring).

    Creates ``<prefix>.index`` and ``<prefix>.data-00000-of-00001``, replacing an earlier checkpoint
    with the same prefix. Values may be NumPy arrays of a supported dtype (see `SUPPORTED_DTYPES`),
    0-d and empty arrays included, or anything `np.asarray` turns into one; string tensors are
    arrays of bytes/str (object, ``S`` or ``U`` dtype). Returns `prefix`.
    Raises `NotFoundError` if the directory does not exist, and `TypeError` for an unsupported value.
    """
    prefix = os.fspath(prefix)
    directory = os.path.dirname(prefix)
    if directory and not os.path.isdir(directory):
        raise NotFoundError(
            None, None, f"Failed to write checkpoint {prefix}: directory {directory} does not exist"
        )
    encoded = [(name, *encode_tensor(name, tensors[name])) for name in sorted(tensors)]

    write_id = os.urandom(WRITE_ID_BYTES)
    final_data, final_index = data_path(prefix), index_path(prefix)
    data_tmp, index_tmp = temp_path_for(final_data), temp_path_for(final_index)
    try:
        entries, data_size = _write_data_file(data_tmp, write_id, encoded)
        del encoded
        _write_index_file(index_tmp, write_id, data_size, entries)

        _keep_committed_data(prefix)
        os.replace(data_tmp, final_data)
        fsync_directory(directory)
        os.replace(index_tmp, final_index)  # the commit point
        fsync_directory(directory)
    except BaseException:
        remove_quietly(data_tmp)
        remove_quietly(index_tmp)
        raise
    remove_backups(prefix)
    remove_stale_temp_files(directory, [os.path.basename(final_data), os.path.basename(final_index)])
    return prefix


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _not_found(prefix):
    return NotFoundError(
        None,
        None,
        f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files for {prefix}",
    )


def _load_index(prefix):
    """The validated index document of `prefix`."""
    path = index_path(prefix)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        data_files = sorted(glob.glob(glob.escape(prefix) + ".data-*"))
        if data_files:
            raise DataLossError(
                None,
                None,
                f"Checkpoint index file {path} is missing, but data file {data_files[0]} exists "
                "(the save that wrote it may have been interrupted)",
            ) from None
        raise _not_found(prefix) from None
    except IsADirectoryError:
        raise corrupt(path, "it is a directory") from None
    return decode_index(path, raw)


def _open_data(prefix, doc):
    """Open the data file that belongs to index `doc`: (file object, path). Checks header and size."""
    path = data_path(prefix)
    write_id = doc["write_id"]
    candidates = [path, backup_path(prefix, write_id)]
    mismatch = None
    for candidate in candidates:
        try:
            f = open(candidate, "rb")
        except FileNotFoundError:
            continue
        except IsADirectoryError:
            raise corrupt(candidate, "it is a directory") from None
        try:
            header = f.read(DATA_HEADER_SIZE)
            if header[: len(DATA_MAGIC)] != DATA_MAGIC[: len(header)]:
                found = header[: len(DATA_MAGIC)]
                raise corrupt(candidate, f"bad magic {found!r} (expected {DATA_MAGIC!r})")
            size = os.fstat(f.fileno()).st_size
            if len(header) < DATA_HEADER_SIZE:
                raise truncated(candidate, doc["data_size"], size)
            if header[len(DATA_MAGIC) :].hex() != write_id:
                mismatch = mismatch or candidate
                f.close()
                continue
            if size < doc["data_size"]:
                raise truncated(candidate, doc["data_size"], size)
            if size > doc["data_size"]:
                raise corrupt(candidate, f"expected {doc['data_size']} bytes, found {size} (trailing data)")
        except BaseException:
            f.close()
            raise
        return f, candidate
    if mismatch is not None:
        raise DataLossError(
            None,
            None,
            f"Checkpoint file {mismatch} does not belong to the index {index_path(prefix)}: it was "
            "written by a different save (write id mismatch)",
        )
    raise DataLossError(
        None, None, f"Checkpoint data file {path} is missing (the index {index_path(prefix)} refers to it)"
    )


def _read_payload(f, path, name, entry):
    length = entry["length"]
    buf = np.empty(length, dtype=np.uint8)
    f.seek(entry["offset"])
    got = f.readinto(buf) if length else 0
    if got != length:
        raise truncated(path, entry["offset"] + length, entry["offset"] + got)
    if zlib.crc32(buf) != entry["crc32"]:
        raise corrupt(path, f"checksum mismatch for tensor '{name}'")
    return buf


def read_checkpoint(prefix, names=None):
    """Read checkpoint `prefix` back: a dict name -> NumPy array (string tensors: object arrays of bytes).

    With `names`, reads only those tensors; a name the checkpoint lacks raises `NotFoundError`
    ("Key ... not found in checkpoint"). Raises `NotFoundError` when no checkpoint files exist
    for `prefix`, and `DataLossError` (naming the file and the fault) for a missing, truncated,
    mismatched or corrupt file.
    """
    prefix = os.fspath(prefix)
    doc = _load_index(prefix)
    tensors = doc["tensors"]
    if names is None:
        wanted = sorted(tensors)
    else:
        wanted = list(names)
        for name in wanted:
            if name not in tensors:
                raise NotFoundError(None, None, f"Key {name} not found in checkpoint {prefix}")
    f, path = _open_data(prefix, doc)
    with f:
        result = {}
        for name in sorted(wanted, key=lambda n: tensors[n]["offset"]):
            buf = _read_payload(f, path, name, tensors[name])
            result[name] = decode_tensor(path, name, tensors[name], buf)
    return {name: result[name] for name in wanted}


def list_checkpoint(prefix):
    """Names, dtypes and shapes in checkpoint `prefix`: a dict name -> (dtype name, shape tuple).

    Reads the index and checks the data file's header and size (not the tensor bytes).
    Raises like `read_checkpoint`.
    """
    prefix = os.fspath(prefix)
    doc = _load_index(prefix)
    f, _ = _open_data(prefix, doc)
    f.close()
    return {name: (e["dtype"], tuple(e["shape"])) for name, e in sorted(doc["tensors"].items())}


def checkpoint_exists(prefix):
    """Whether checkpoint `prefix` has been written (its index file exists), as TF checks it."""
    return os.path.isfile(index_path(prefix))


def remove_checkpoint(prefix):
    """Delete the files of checkpoint `prefix`: .index (first), .data-*, .meta, and leftovers.

    Files that do not exist are skipped; temporary files of writers still running are kept.
    """
    prefix = os.fspath(prefix)
    directory, base = os.path.split(prefix)
    remove_quietly(index_path(prefix))
    for path in glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        remove_quietly(path)
    remove_quietly(prefix + META_SUFFIX)
    remove_backups(prefix)
    remove_stale_temp_files(directory, [base + DATA_SUFFIX, base + INDEX_SUFFIX, base + META_SUFFIX])
