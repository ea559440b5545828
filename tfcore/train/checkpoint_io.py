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
"""

import glob
import hashlib
import json
import os
import struct
import time
import zlib

import numpy as np

from tfcore.framework.errors import DataLossError, NotFoundError

DATA_MAGIC = b"TFCKDAT1"
INDEX_MAGIC = b"TFCKIDX1"
FORMAT_NAME = "tfcore-checkpoint"
FORMAT_VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
META_SUFFIX = ".meta"
STALE_TEMP_SECONDS = 600.0

_WRITE_ID_BYTES = 16
_DATA_HEADER_SIZE = len(DATA_MAGIC) + _WRITE_ID_BYTES  # 24
_INDEX_HEADER = struct.Struct("<8sQ32s")  # magic, JSON length, SHA-256 of the JSON
_TF_TABLE_MAGIC = bytes.fromhex("57fb808b247547db")  # last 8 bytes of a TensorFlow (leveldb) index
_READ_CHUNK = 1 << 24

# dtype name -> little-endian NumPy dtype of the stored bytes
_NUMERIC_DTYPES = {
    name: np.dtype(name).newbyteorder("<")
    for name in (
        "float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool complex64 complex128"
    ).split()
}
STRING_DTYPE = "string"
SUPPORTED_DTYPES = (*_NUMERIC_DTYPES, STRING_DTYPE)


# ---------------------------------------------------------------------------------------------
# Paths, temporary files and atomic file writes (also used by checkpoint_state)
# ---------------------------------------------------------------------------------------------


def data_path(prefix):
    """Path of the (single) data file of checkpoint `prefix`."""
    return os.fspath(prefix) + DATA_SUFFIX


def index_path(prefix):
    """Path of the index file of checkpoint `prefix`."""
    return os.fspath(prefix) + INDEX_SUFFIX


def _backup_path(prefix, write_id_hex):
    directory, base = os.path.split(os.fspath(prefix))
    return os.path.join(directory, f".{base}{DATA_SUFFIX}.{write_id_hex}.prev")


def temp_path_for(path):
    """A fresh temporary name next to `path`: ``.<name>.<pid>.<random>.tmp`` in the same directory."""
    directory, name = os.path.split(os.fspath(path))
    return os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _parse_temp_name(filename):
    """(target name, pid) of a name made by `temp_path_for`, or None."""
    if not (filename.startswith(".") and filename.endswith(".tmp")):
        return None
    parts = filename[1:-4].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 8:
        return None
    try:
        int(parts[2], 16)
    except ValueError:
        return None
    return parts[0], int(parts[1])


def _pid_running(pid):
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def remove_stale_temp_files(directory, target_names):
    """Delete leftover temporary files for `target_names` in `directory` whose writer is gone.

    A temporary file counts as stale when the pid in its name is no longer running (POSIX), or when
    it has not been modified for `STALE_TEMP_SECONDS`. Files of live writers are left alone.
    """
    targets = set(target_names)
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return
    now = time.time()
    for entry in entries:
        parsed = _parse_temp_name(entry)
        if parsed is None or parsed[0] not in targets:
            continue
        path = os.path.join(directory, entry)
        try:
            old = now - os.stat(path).st_mtime > STALE_TEMP_SECONDS
        except OSError:
            continue
        if old or not _pid_running(parsed[1]):
            _remove_quietly(path)


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:  # already gone, or not ours to remove: nothing to do
        pass


def fsync_directory(directory):
    """Make renames in `directory` durable (a no-op where directories cannot be fsynced)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Replace file `path` by `data` atomically: temp file, flush, fsync, `os.replace`, fsync dir.

    A reader sees either the old file or the new one, whatever moment the writer dies at.
    """
    path = os.fspath(path)
    directory = os.path.dirname(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_directory(directory)
    remove_stale_temp_files(directory, [os.path.basename(path)])


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _encode_tensor(name, value):
    """(dtype name, shape, payload buffer) of one tensor; raises TypeError for unsupported values."""
    if not isinstance(name, str):
        raise TypeError(f"Checkpoint tensor names must be strings, got {name!r}")
    arr = np.asarray(value)
    shape = [int(d) for d in arr.shape]
    if arr.dtype.kind in "SUO":
        flat = arr.reshape(-1)
        items = []
        for element in flat.tolist() if arr.dtype.kind != "O" else flat:
            if isinstance(element, str):
                element = element.encode("utf-8")
            elif not isinstance(element, bytes):
                raise TypeError(
                    f"Tensor '{name}': a string tensor's elements must be bytes or str, "
                    f"got {type(element).__name__}"
                )
            items.append(bytes(element))
        lengths = np.array([len(b) for b in items], dtype="<u8")
        return STRING_DTYPE, shape, lengths.tobytes() + b"".join(items)
    dtype_name = arr.dtype.name
    if dtype_name not in _NUMERIC_DTYPES:
        raise TypeError(
            f"Tensor '{name}' has dtype {arr.dtype}, which checkpoints cannot store "
            f"(supported: {', '.join(SUPPORTED_DTYPES)})"
        )
    arr = np.ascontiguousarray(arr, dtype=_NUMERIC_DTYPES[dtype_name])
    return dtype_name, shape, arr.reshape(-1).view(np.uint8)


def _read_committed_write_id(prefix):
    """Write id (hex) of the index currently committed under `prefix`, or None if there is none valid."""
    try:
        return _load_index(os.fspath(prefix))["write_id"]
    except (NotFoundError, DataLossError):
        return None


def _data_file_write_id(path):
    try:
        with open(path, "rb") as f:
            header = f.read(_DATA_HEADER_SIZE)
    except OSError:
        return None
    if len(header) != _DATA_HEADER_SIZE or header[: len(DATA_MAGIC)] != DATA_MAGIC:
        return None
    return header[len(DATA_MAGIC) :].hex()


def _keep_committed_data(prefix):
    """Before the data file is replaced, make sure the committed index's data survives as a .prev file."""
    committed = _read_committed_write_id(prefix)
    if committed is None:
        return
    backup = _backup_path(prefix, committed)
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
                _remove_quietly(tmp)
                raise
    fsync_directory(os.path.dirname(backup))


def _remove_backups(prefix, keep=()):
    directory, base = os.path.split(os.fspath(prefix))
    start, end = f".{base}{DATA_SUFFIX}.", ".prev"
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return
    for entry in entries:
        if entry.startswith(start) and entry.endswith(end) and entry[len(start) : -len(end)] not in keep:
            _remove_quietly(os.path.join(directory, entry))


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
    encoded = [(name, *_encode_tensor(name, tensors[name])) for name in sorted(tensors)]

    write_id = os.urandom(_WRITE_ID_BYTES)
    final_data, final_index = data_path(prefix), index_path(prefix)
    data_tmp, index_tmp = temp_path_for(final_data), temp_path_for(final_index)
    try:
        entries = {}
        with open(data_tmp, "xb") as f:
            f.write(DATA_MAGIC + write_id)
            offset = _DATA_HEADER_SIZE
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
        del encoded
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "write_id": write_id.hex(),
            "num_shards": 1,
            "data_size": offset,
            "tensors": entries,
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with open(index_tmp, "xb") as f:
            f.write(_INDEX_HEADER.pack(INDEX_MAGIC, len(body), hashlib.sha256(body).digest()))
            f.write(body)
            f.flush()
            os.fsync(f.fileno())

        _keep_committed_data(prefix)
        os.replace(data_tmp, final_data)
        fsync_directory(directory)
        os.replace(index_tmp, final_index)  # the commit point
        fsync_directory(directory)
    except BaseException:
        _remove_quietly(data_tmp)
        _remove_quietly(index_tmp)
        raise
    _remove_backups(prefix)
    remove_stale_temp_files(directory, [os.path.basename(final_data), os.path.basename(final_index)])
    return prefix


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _corrupt(path, what):
    return DataLossError(None, None, f"Checkpoint file {path} is corrupt: {what}")


def _truncated(path, expected, found):
    return DataLossError(
        None, None, f"Checkpoint file {path} is truncated: expected {expected} bytes, found {found}"
    )


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
        raise _corrupt(path, "it is a directory") from None
    header_size = _INDEX_HEADER.size
    if not raw:
        raise _truncated(path, f"at least {header_size}", 0)
    if raw[: len(INDEX_MAGIC)] != INDEX_MAGIC[: len(raw)]:
        if raw.endswith(_TF_TABLE_MAGIC):
            raise _corrupt(path, "it is a TensorFlow checkpoint index, which tfcore cannot read")
        raise _corrupt(path, f"bad magic {raw[: len(INDEX_MAGIC)]!r} (expected {INDEX_MAGIC!r})")
    if len(raw) < header_size:
        raise _truncated(path, f"at least {header_size}", len(raw))
    _, body_len, digest = _INDEX_HEADER.unpack_from(raw)
    expected = header_size + body_len
    if len(raw) < expected:
        raise _truncated(path, expected, len(raw))
    if len(raw) > expected:
        raise _corrupt(path, f"expected {expected} bytes, found {len(raw)} (trailing data)")
    body = raw[header_size:]
    if hashlib.sha256(body).digest() != digest:
        raise _corrupt(path, "checksum mismatch for the index contents")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise _corrupt(path, f"the index is not valid JSON ({e})") from None
    _validate_index(path, doc)
    return doc


def _validate_index(path, doc):
    def bad(what):
        return _corrupt(path, f"malformed index: {what}")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise bad("not a tfcore checkpoint index")
    if doc.get("version") != FORMAT_VERSION:
        raise bad(f"unsupported format version {doc.get('version')!r} (this tfcore reads {FORMAT_VERSION})")
    write_id, size, tensors = doc.get("write_id"), doc.get("data_size"), doc.get("tensors")
    if not isinstance(write_id, str) or len(write_id) != 2 * _WRITE_ID_BYTES:
        raise bad("bad write_id")
    if doc.get("num_shards") != 1:
        raise bad(f"unsupported number of data shards {doc.get('num_shards')!r}")
    if not isinstance(size, int) or size < _DATA_HEADER_SIZE or not isinstance(tensors, dict):
        raise bad("bad data_size or tensors")
    for name, entry in tensors.items():
        try:
            dtype_name, shape = entry["dtype"], entry["shape"]
            offset, length, crc = entry["offset"], entry["length"], entry["crc32"]
            ok = (
                dtype_name in SUPPORTED_DTYPES
                and isinstance(shape, list)
                and all(isinstance(d, int) and d >= 0 for d in shape)
                and all(isinstance(x, int) and x >= 0 for x in (offset, length, crc))
                and _DATA_HEADER_SIZE <= offset
                and offset + length <= size
            )
        except (KeyError, TypeError):
            ok = False
        if ok:
            count = int(np.prod(shape, dtype=np.int64))
            if dtype_name == STRING_DTYPE:
                ok = length >= 8 * count
            else:
                ok = length == count * _NUMERIC_DTYPES[dtype_name].itemsize
        if not ok:
            raise bad(f"bad entry for tensor '{name}'")


def _open_data(prefix, doc):
    """Open the data file that belongs to index `doc`: (file object, path). Checks header and size."""
    path = data_path(prefix)
    write_id = doc["write_id"]
    candidates = [path, _backup_path(prefix, write_id)]
    mismatch = None
    for candidate in candidates:
        try:
            f = open(candidate, "rb")
        except FileNotFoundError:
            continue
        except IsADirectoryError:
            raise _corrupt(candidate, "it is a directory") from None
        try:
            header = f.read(_DATA_HEADER_SIZE)
            if header[: len(DATA_MAGIC)] != DATA_MAGIC[: len(header)]:
                found = header[: len(DATA_MAGIC)]
                raise _corrupt(candidate, f"bad magic {found!r} (expected {DATA_MAGIC!r})")
            size = os.fstat(f.fileno()).st_size
            if len(header) < _DATA_HEADER_SIZE:
                raise _truncated(candidate, doc["data_size"], size)
            if header[len(DATA_MAGIC) :].hex() != write_id:
                mismatch = mismatch or candidate
                f.close()
                continue
            if size < doc["data_size"]:
                raise _truncated(candidate, doc["data_size"], size)
            if size > doc["data_size"]:
                raise _corrupt(candidate, f"expected {doc['data_size']} bytes, found {size} (trailing data)")
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
        raise _truncated(path, entry["offset"] + length, entry["offset"] + got)
    if zlib.crc32(buf) != entry["crc32"]:
        raise _corrupt(path, f"checksum mismatch for tensor '{name}'")
    return buf


def _decode_tensor(path, name, entry, buf):
    shape = tuple(entry["shape"])
    dtype_name = entry["dtype"]
    if dtype_name != STRING_DTYPE:
        arr = buf.view(_NUMERIC_DTYPES[dtype_name]).reshape(shape)
        return arr.astype(arr.dtype.newbyteorder("="), copy=False)
    count = int(np.prod(shape, dtype=np.int64))
    lengths = buf[: 8 * count].view("<u8").astype(np.int64)
    if int(lengths.sum()) != entry["length"] - 8 * count:
        raise _corrupt(path, f"bad string lengths for tensor '{name}'")
    raw = buf[8 * count :].tobytes()
    out = np.empty(count, dtype=object)
    pos = 0
    for i, n in enumerate(lengths.tolist()):
        out[i] = raw[pos : pos + n]
        pos += n
    return out.reshape(shape)


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
            result[name] = _decode_tensor(path, name, tensors[name], buf)
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
    _remove_quietly(index_path(prefix))
    for path in glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        _remove_quietly(path)
    _remove_quietly(prefix + META_SUFFIX)
    _remove_backups(prefix)
    remove_stale_temp_files(directory, [base + DATA_SUFFIX, base + INDEX_SUFFIX, base + META_SUFFIX])
