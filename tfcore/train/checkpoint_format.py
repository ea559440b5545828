"""The bytes of tfcore's checkpoint files: tensor payloads and the index, encoded and checked.

`checkpoint_io` documents the format exactly and does the file work (atomic writes, reading a
prefix back); this module turns tensors into payload bytes and back, builds the index file's bytes,
and parses and validates an index file's bytes. Every fault it finds raises `DataLossError` naming
the file (see `corrupt` and `truncated`).
"""

import hashlib
import json
import struct

import numpy as np

from tfcore.framework.errors import DataLossError

__all__ = [
    "DATA_HEADER_SIZE",
    "DATA_MAGIC",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "INDEX_MAGIC",
    "NUMERIC_DTYPES",
    "STRING_DTYPE",
    "SUPPORTED_DTYPES",
    "WRITE_ID_BYTES",
    "corrupt",
    "decode_index",
    "decode_tensor",
    "encode_index",
    "encode_tensor",
    "truncated",
]

DATA_MAGIC = b"TFCKDAT1"
INDEX_MAGIC = b"TFCKIDX1"
FORMAT_NAME = "tfcore-checkpoint"
FORMAT_VERSION = 1

WRITE_ID_BYTES = 16
DATA_HEADER_SIZE = len(DATA_MAGIC) + WRITE_ID_BYTES  # 24
_INDEX_HEADER = struct.Struct("<8sQ32s")  # magic, JSON length, SHA-256 of the JSON
_TF_TABLE_MAGIC = bytes.fromhex("57fb808b247547db")  # last 8 bytes of a TensorFlow (leveldb) index

# dtype name -> little-endian NumPy dtype of the stored bytes
NUMERIC_DTYPES = {
    name: np.dtype(name).newbyteorder("<")
    for name in (
        "float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool complex64 complex128"
    ).split()
}
STRING_DTYPE = "string"
SUPPORTED_DTYPES = (*NUMERIC_DTYPES, STRING_DTYPE)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def corrupt(path, what):
    """The `DataLossError` for checkpoint file `path`, corrupt because of `what`."""
    return DataLossError(None, None, f"Checkpoint file {path} is corrupt: {what}")


def truncated(path, expected, found):
    """The `DataLossError` for checkpoint file `path`, shorter (`found` bytes) than `expected`."""
    return DataLossError(
        None, None, f"Checkpoint file {path} is truncated: expected {expected} bytes, found {found}"
    )


# ---------------------------------------------------------------------------------------------
# Tensor payloads
# ---------------------------------------------------------------------------------------------


def encode_tensor(name, value):
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
    if dtype_name not in NUMERIC_DTYPES:
        raise TypeError(
            f"Tensor '{name}' has dtype {arr.dtype}, which checkpoints cannot store "
            f"(supported: {', '.join(SUPPORTED_DTYPES)})"
        )
    arr = np.ascontiguousarray(arr, dtype=NUMERIC_DTYPES[dtype_name])
    return dtype_name, shape, arr.reshape(-1).view(np.uint8)


def decode_tensor(path, name, entry, buf):
    """The array index `entry` describes, from its checked payload `buf` (uint8) read from `path`."""
    shape = tuple(entry["shape"])
    dtype_name = entry["dtype"]
    if dtype_name != STRING_DTYPE:
        arr = buf.view(NUMERIC_DTYPES[dtype_name]).reshape(shape)
        return arr.astype(arr.dtype.newbyteorder("="), copy=False)
    count = int(np.prod(shape, dtype=np.int64))
    lengths = buf[: 8 * count].view("<u8").astype(np.int64)
    if int(lengths.sum()) != entry["length"] - 8 * count:
        raise corrupt(path, f"bad string lengths for tensor '{name}'")
    raw = buf[8 * count :].tobytes()
    out = np.empty(count, dtype=object)
    pos = 0
    for i, n in enumerate(lengths.tolist()):
        out[i] = raw[pos : pos + n]
        pos += n
    return out.reshape(shape)


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------


def encode_index(write_id, data_size, entries):
    """(header, JSON body): the bytes of the index of a data file of `data_size` bytes.

    `write_id` is the save's write id (bytes) and `entries` maps each tensor name to its
    ``dtype``/``shape``/``offset``/``length``/``crc32`` entry.
    """
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "write_id": write_id.hex(),
        "num_shards": 1,
        "data_size": data_size,
        "tensors": entries,
    }
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _INDEX_HEADER.pack(INDEX_MAGIC, len(body), hashlib.sha256(body).digest()), body


def decode_index(path, raw):
    """The validated index document in `raw`, the bytes of index file `path`."""
    header_size = _INDEX_HEADER.size
    if not raw:
        raise truncated(path, f"at least {header_size}", 0)
    if raw[: len(INDEX_MAGIC)] != INDEX_MAGIC[: len(raw)]:
        if raw.endswith(_TF_TABLE_MAGIC):
            raise corrupt(path, "it is a TensorFlow checkpoint index, which tfcore cannot read")
        raise corrupt(path, f"bad magic {raw[: len(INDEX_MAGIC)]!r} (expected {INDEX_MAGIC!r})")
    if len(raw) < header_size:
        raise truncated(path, f"at least {header_size}", len(raw))
    _, body_len, digest = _INDEX_HEADER.unpack_from(raw)
    expected = header_size + body_len
    if len(raw) < expected:
        raise truncated(path, expected, len(raw))
    if len(raw) > expected:
        raise corrupt(path, f"expected {expected} bytes, found {len(raw)} (trailing data)")
    body = raw[header_size:]
    if hashlib.sha256(body).digest() != digest:
        raise corrupt(path, "checksum mismatch for the index contents")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise corrupt(path, f"the index is not valid JSON ({e})") from None
    _validate_index(path, doc)
    return doc


def _validate_index(path, doc):
    def bad(what):
        return corrupt(path, f"malformed index: {what}")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise bad("not a tfcore checkpoint index")
    if doc.get("version") != FORMAT_VERSION:
        raise bad(f"unsupported format version {doc.get('version')!r} (this tfcore reads {FORMAT_VERSION})")
    write_id, size, tensors = doc.get("write_id"), doc.get("data_size"), doc.get("tensors")
    if not isinstance(write_id, str) or len(write_id) != 2 * WRITE_ID_BYTES:
        raise bad("bad write_id")
    if doc.get("num_shards") != 1:
        raise bad(f"unsupported number of data shards {doc.get('num_shards')!r}")
    if not isinstance(size, int) or size < DATA_HEADER_SIZE or not isinstance(tensors, dict):
        raise bad("bad data_size or tensors")
    for name, entry in tensors.items():
        if not _valid_entry(entry, size):
            raise bad(f"bad entry for tensor '{name}'")


def _valid_entry(entry, data_size):
    """Whether index `entry` is well-formed and lies inside a data file of `data_size` bytes."""
    try:
        dtype_name, shape = entry["dtype"], entry["shape"]
        offset, length, crc = entry["offset"], entry["length"], entry["crc32"]
        ok = (
            dtype_name in SUPPORTED_DTYPES
            and isinstance(shape, list)
            and all(isinstance(d, int) and d >= 0 for d in shape)
            and all(isinstance(x, int) and x >= 0 for x in (offset, length, crc))
            and DATA_HEADER_SIZE <= offset
            and offset + length <= data_size
        )
    except (KeyError, TypeError):
        ok = False
    if ok:
        count = int(np.prod(shape, dtype=np.int64))
        if dtype_name == STRING_DTYPE:
            ok = length >= 8 * count
        else:
            ok = length == count * NUMERIC_DTYPES[dtype_name].itemsize
    return ok
