"""Protocol-buffer wire format, written by hand, for the few messages TensorBoard reads.

A protobuf message is a flat run of fields. Each field starts with a key, the varint
``field_number << 3 | wire_type``, followed by the value:

    wire type 0 (varint)            ints, bools and enums, 7 bits a byte, low bits first
    wire type 1 (64-bit)            doubles and fixed64, 8 bytes little-endian
    wire type 2 (length-delimited)  strings, bytes, nested messages and packed repeated numbers:
                                    a varint length, then that many bytes
    wire type 5 (32-bit)            floats and fixed32, 4 bytes little-endian

A repeated field is just the same field written again, so two serialized messages of the same type
concatenate into one message holding both lists of values (`summary.merge` relies on this).

The message encoders below take plain Python values and return bytes; field numbers follow
TensorFlow's ``event.proto``, ``summary.proto``, ``graph.proto`` and friends. ``iter_fields`` is a
small decoder, enough to look inside what we wrote.
"""

import struct

import numpy as np

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5

_UINT64 = (1 << 64) - 1

# TensorFlow's DataType enum (types.proto), keyed by tfcore/NumPy dtype name.
DATA_TYPES = {
    "float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7,
    "complex64": 8, "int64": 9, "bool": 10, "uint16": 17, "complex128": 18, "float16": 19,
    "uint32": 22, "uint64": 23,
}
_REF_OFFSET = 100  # DT_FLOAT_REF = 101: a reference type is its base type plus 100


def data_type_enum(dtype_name):
    """The DataType enum value for a dtype name such as ``"float32"`` or ``"float32_ref"``."""
    if dtype_name.endswith("_ref"):
        return data_type_enum(dtype_name[:-4]) + _REF_OFFSET
    try:
        return DATA_TYPES[dtype_name]
    except KeyError:
        raise ValueError(f"No TensorFlow DataType for dtype '{dtype_name}'.") from None


# --- scalars and field keys ---------------------------------------------------------------------
def encode_varint(value):
    """A non-negative or negative (int64, two's complement, 10 bytes) integer as a varint."""
    value = int(value)
    if not -(1 << 63) <= value <= _UINT64:
        raise OverflowError(f"{value} does not fit in 64 bits")
    value &= _UINT64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field_key(field_number, wire_type):
    """The key that starts every field."""
    return encode_varint(field_number << 3 | wire_type)


def varint_field(field_number, value):
    """An int32/int64/uint64/bool/enum field."""
    return field_key(field_number, VARINT) + encode_varint(value)


def bytes_field(field_number, value):
    """A string (UTF-8 encoded), bytes or nested-message field."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return field_key(field_number, LENGTH_DELIMITED) + encode_varint(len(value)) + bytes(value)


def double_field(field_number, value):
    """A double field (64-bit IEEE, little-endian)."""
    return field_key(field_number, FIXED64) + struct.pack("<d", value)


def float_field(field_number, value):
    """A float field (32-bit IEEE, little-endian)."""
    return field_key(field_number, FIXED32) + struct.pack("<f", value)


def packed_doubles_field(field_number, values):
    """A packed ``repeated double``: one length-delimited field holding the raw doubles."""
    return bytes_field(field_number, np.asarray(values, dtype="<f8").tobytes())


def packed_floats_field(field_number, values):
    """A packed ``repeated float``."""
    return bytes_field(field_number, np.asarray(values, dtype="<f4").tobytes())


def packed_varints_field(field_number, values):
    """A packed ``repeated int64`` (or bool, or enum)."""
    return bytes_field(field_number, b"".join(encode_varint(v) for v in values))


# --- decoding -----------------------------------------------------------------------------------
def decode_varint(data, pos=0):
    """Read one varint from `data` at `pos`; returns ``(value, next_pos)``."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("Truncated varint in protobuf data.")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def as_int64(value):
    """Reinterpret a decoded (unsigned) varint as a signed int64."""
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(data):
    """Yield ``(field_number, wire_type, value)`` for each field of one serialized message.

    The value is an int for varints, and the raw bytes for the other wire types (unpack doubles
    with ``struct.unpack("<d", value)``; parse nested messages with another ``iter_fields``).
    """
    data = memoryview(data).tobytes() if not isinstance(data, bytes) else data
    pos = 0
    while pos < len(data):
        key, pos = decode_varint(data, pos)
        field_number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = decode_varint(data, pos)
        elif wire_type in (FIXED64, FIXED32, LENGTH_DELIMITED):
            if wire_type == LENGTH_DELIMITED:
                size, pos = decode_varint(data, pos)
            else:
                size = 8 if wire_type == FIXED64 else 4
            if pos + size > len(data):
                raise ValueError("Truncated field in protobuf data.")
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"Unsupported protobuf wire type {wire_type} (field {field_number}).")
        yield field_number, wire_type, value


# --- event.proto --------------------------------------------------------------------------------
def event(wall_time, step=0, file_version=None, graph_def=None, summary=None, tagged_run_metadata=None):
    """An ``Event``: wall_time (double, 1), step (int64, 2) and one of file_version (3),
    graph_def (serialized GraphDef, 4), summary (serialized Summary, 5) or tagged_run_metadata
    (serialized TaggedRunMetadata, 8)."""
    parts = [double_field(1, wall_time)]
    if step:
        parts.append(varint_field(2, step))
    if file_version is not None:
        parts.append(bytes_field(3, file_version))
    if graph_def is not None:
        parts.append(bytes_field(4, graph_def))
    if summary is not None:
        parts.append(bytes_field(5, summary))
    if tagged_run_metadata is not None:
        parts.append(bytes_field(8, tagged_run_metadata))
    return b"".join(parts)


def tagged_run_metadata(tag, run_metadata):
    """A ``TaggedRunMetadata``: tag (1) and a serialized RunMetadata (2)."""
    return bytes_field(1, tag) + bytes_field(2, run_metadata)


def run_metadata(devices):
    """A ``RunMetadata`` holding step_stats (1): a StepStats with one DeviceStepStats
    {device=1, node_stats=2} per ``(device, [serialized NodeExecStats])`` in `devices`."""
    dev_stats = [bytes_field(1, device) + b"".join(bytes_field(2, n) for n in nodes)
                 for device, nodes in devices]
    return bytes_field(1, b"".join(bytes_field(1, d) for d in dev_stats))


def node_exec_stats(node_name, all_start_micros, op_start_rel_micros, op_end_rel_micros,
                    all_end_rel_micros, timeline_label=""):
    """A ``NodeExecStats``: node_name (1), the int64 times all_start_micros (2),
    op_start_rel_micros (3), op_end_rel_micros (4), all_end_rel_micros (5), timeline_label (8)."""
    parts = [bytes_field(1, node_name), varint_field(2, all_start_micros),
             varint_field(3, op_start_rel_micros), varint_field(4, op_end_rel_micros),
             varint_field(5, all_end_rel_micros)]
    if timeline_label:
        parts.append(bytes_field(8, timeline_label))
    return b"".join(parts)


# --- summary.proto ------------------------------------------------------------------------------
def summary(values):
    """A ``Summary`` from serialized ``Summary.Value`` messages (repeated field 1)."""
    return b"".join(bytes_field(1, v) for v in values)


def summary_value(tag, simple_value=None, image=None, histo=None, tensor=None, metadata=None):
    """A ``Summary.Value``: tag (1) and one of simple_value (float, 2), image (4), histo (5) or
    tensor (8), with optional metadata (SummaryMetadata, 9). Message arguments are bytes."""
    parts = [bytes_field(1, tag)]
    if metadata is not None:
        parts.append(bytes_field(9, metadata))
    if simple_value is not None:  # in a oneof, so written even when 0.0
        parts.append(float_field(2, simple_value))
    if image is not None:
        parts.append(bytes_field(4, image))
    if histo is not None:
        parts.append(bytes_field(5, histo))
    if tensor is not None:
        parts.append(bytes_field(8, tensor))
    return b"".join(parts)


def summary_metadata(plugin_name, content=b""):
    """A ``SummaryMetadata`` naming the TensorBoard plugin (plugin_data=1 {plugin_name=1,
    content=2})."""
    plugin_data = bytes_field(1, plugin_name) + (bytes_field(2, content) if content else b"")
    return bytes_field(1, plugin_data)


def image(height, width, colorspace, encoded_image):
    """A ``Summary.Image``: height (1), width (2), colorspace (3: 1 gray, 2 gray+alpha, 3 RGB,
    4 RGBA) and the encoded PNG bytes (4)."""
    return (varint_field(1, height) + varint_field(2, width) + varint_field(3, colorspace)
            + bytes_field(4, encoded_image))


def histogram(min, max, num, sum, sum_squares, bucket_limit, bucket):  # noqa: A002 - proto names
    """A ``HistogramProto``: min, max, num, sum, sum_squares (doubles 1-5) and the packed doubles
    bucket_limit (6) and bucket (7)."""
    return b"".join([
        double_field(1, min), double_field(2, max), double_field(3, num), double_field(4, sum),
        double_field(5, sum_squares), packed_doubles_field(6, bucket_limit),
        packed_doubles_field(7, bucket),
    ])


# --- graph.proto and what it uses ---------------------------------------------------------------
def tensor_shape(dims):
    """A ``TensorShapeProto``: dims is a list of ints (None for unknown, written as -1), or None
    for an unknown rank (unknown_rank=3)."""
    if dims is None:
        return varint_field(3, 1)
    return b"".join(bytes_field(2, varint_field(1, -1 if d is None else d)) for d in dims)


def tensor(array):
    """A ``TensorProto`` holding a NumPy array: dtype (1), tensor_shape (2) and the values as
    little-endian tensor_content (4), or string_val (8) for string arrays."""
    array = np.asarray(array)
    if array.dtype.kind in "OSU":
        values = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in array.ravel()]
        return (varint_field(1, DATA_TYPES["string"]) + bytes_field(2, tensor_shape(array.shape))
                + b"".join(bytes_field(8, v) for v in values))
    name = "bool" if array.dtype == np.bool_ else array.dtype.name
    content = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return (varint_field(1, data_type_enum(name)) + bytes_field(2, tensor_shape(array.shape))
            + bytes_field(4, content))


def attr_string(value):
    """An ``AttrValue`` holding bytes or a string (s=2)."""
    return bytes_field(2, value)


def attr_int(value):
    """An ``AttrValue`` holding an int64 (i=3)."""
    return varint_field(3, value)


def attr_float(value):
    """An ``AttrValue`` holding a float (f=4)."""
    return float_field(4, value)


def attr_bool(value):
    """An ``AttrValue`` holding a bool (b=5)."""
    return varint_field(5, 1 if value else 0)


def attr_type(enum):
    """An ``AttrValue`` holding a DataType enum value (type=6)."""
    return varint_field(6, enum)


def attr_shape(dims):
    """An ``AttrValue`` holding a TensorShapeProto (shape=7); dims as for `tensor_shape`."""
    return bytes_field(7, tensor_shape(dims))


def attr_tensor(array):
    """An ``AttrValue`` holding a TensorProto (tensor=8)."""
    return bytes_field(8, tensor(array))


def attr_list(s=(), i=(), f=(), b=(), type=(), shape=()):  # noqa: A002 - proto names
    """An ``AttrValue`` holding a ListValue (list=1): s (2), i (3), f (4), b (5), type (6) and
    shape (7, each a dims list as for `tensor_shape`)."""
    parts = [bytes_field(2, v) for v in s]
    for number, values in ((3, i), (5, [1 if v else 0 for v in b]), (6, type)):
        if len(values):
            parts.append(packed_varints_field(number, values))
    if len(f):
        parts.append(packed_floats_field(4, f))
    parts += [bytes_field(7, tensor_shape(dims)) for dims in shape]
    return bytes_field(1, b"".join(parts))


def node_def(name, op, inputs=(), device="", attrs=None):
    """A ``NodeDef``: name (1), op (2), repeated input (3, "name", "name:1" or "^name" for a
    control input), device (4) and attr (5), a map written as entries {key=1, value=2} sorted by
    key; `attrs` maps names to serialized AttrValues."""
    parts = [bytes_field(1, name), bytes_field(2, op)]
    parts += [bytes_field(3, i) for i in inputs]
    if device:
        parts.append(bytes_field(4, device))
    for key in sorted(attrs or {}):
        parts.append(bytes_field(5, bytes_field(1, key) + bytes_field(2, attrs[key])))
    return b"".join(parts)


def graph_def(nodes, producer=27):
    """A ``GraphDef``: repeated node (1, serialized NodeDefs) and versions (4, VersionDef with
    producer=1)."""
    return b"".join(bytes_field(1, n) for n in nodes) + bytes_field(4, varint_field(1, producer))
