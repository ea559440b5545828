"""`GraphDef` and `NodeDef`: a graph written down as data, and the file format tfcore keeps it in.

`Graph.as_graph_def()` describes every op as a `NodeDef`: its `name`, its `op` (type), its `input`
in TensorFlow's spelling ("x" for output 0 of op x, "x:1" for output 1, "^init" for a control
input), its `device` and its `attr` (the op's attributes, as the Python values the op was built
with). `tf.import_graph_def` (tfcore/ops/importer.py) builds ops from NodeDefs again, each through
`apply_op`, so their shapes are checked as when they were first built.

The file format is tfcore's own, not TensorFlow's protobuf: TensorFlow cannot read these files and
tfcore cannot read TensorFlow's (`ParseFromString` of one raises `DecodeError` saying which format it
found). Both forms are UTF-8 JSON documents:

    {"format": "tfcore-graph-def", "version": 1, "node": [
      {"name": "w", "op": "Const",
       "attr": {
        "dtype": {"dtype": "float32"},
        "value": {"array": {"dtype": "float32", "shape": [2], "values": [1.0, 2.0]}}}},
      {"name": "y", "op": "MatMul", "input": ["x", "w"], "device": "/device:CPU:0", ...}]}

`SerializeToString()` writes it on one line (the "binary" form, arrays as base64 of their
little-endian bytes); `str(graph_def)` and `write_graph(..., as_text=True)` write the text form, a
node per few lines and small arrays as lists of numbers, for a person to read. `ParseFromString`
reads either. An attribute value is stored as JSON where JSON has the type (None, bool, int, float,
str, list; floats may be NaN or Infinity, as Python's json writes them) and otherwise as an object
with one tag: {"tuple": [...]}, {"bytes": base64}, {"dtype": "float32_ref"}, {"shape": [null, 784]}
(null: unknown rank), {"scalar": {"dtype", "value"}} (a NumPy scalar), {"dict": [[key, value], ...]}
and {"array": {"dtype", "shape", and "data" (base64), "values" (numbers) or "items" (strings)}}.
"""

import base64
import json
import os
import re

import numpy as np

from tfcore.framework import dtypes as _dtypes
from tfcore.framework.tensor_shape import TensorShape

GRAPH_DEF_FORMAT = "tfcore-graph-def"
GRAPH_DEF_VERSION = 1
_TEXT_ARRAY_LIMIT = 64  # the text form lists arrays up to this many numbers; larger ones are base64


class DecodeError(ValueError):
    """Bytes that are not a tfcore GraphDef or MetaGraphDef (protobuf's `DecodeError`, as a ValueError)."""


class NodeDef:
    """One op of a GraphDef: `name`, `op` (its type), `input` ("x", "x:1", "^ctrl"), `device`, `attr`."""

    __slots__ = ("name", "op", "input", "device", "attr")

    def __init__(self, name="", op="", input=None, device="", attr=None):  # noqa: A002 - TF's field
        self.name = name
        self.op = op
        self.input = list(input or [])
        self.device = device or ""
        self.attr = dict(attr or {})

    def CopyFrom(self, other):  # noqa: N802 - protobuf's name
        """Make this node a copy of `other` (attribute values are shared, as they are read-only)."""
        self.name, self.op, self.device = other.name, other.op, other.device
        self.input, self.attr = list(other.input), dict(other.attr)

    def __eq__(self, other):
        return isinstance(other, NodeDef) and node_to_json(self) == node_to_json(other)

    __hash__ = None

    def __repr__(self):
        return f"<NodeDef '{self.name}' op={self.op}>"

    def __str__(self):
        return _node_text(node_to_json(self, text=True))


class _NodeList(list):
    """`graph_def.node`: a list of NodeDefs with protobuf's `add()`."""

    def add(self, **fields):
        """Append a new NodeDef (with `fields`) and return it."""
        node = NodeDef(**fields)
        self.append(node)
        return node


class GraphDef:
    """A graph as data: `node`, a list of NodeDefs in the order the ops were built."""

    def __init__(self, node=None):
        self.node = _NodeList(node or [])

    # --- protobuf's message methods -------------------------------------------------------------
    def SerializeToString(self):  # noqa: N802 - protobuf's name
        """The compact form: one line of JSON, arrays as base64 (see the module docstring)."""
        return json.dumps(graph_def_to_json(self), separators=(",", ":")).encode("utf-8")

    def ParseFromString(self, data):  # noqa: N802 - protobuf's name
        """Replace this GraphDef's nodes by those in `data` (either form); returns len(data)."""
        doc = parse_document(data, GRAPH_DEF_FORMAT, "GraphDef")
        self.node = graph_def_from_json(doc).node
        return len(data)

    @classmethod
    def FromString(cls, data):  # noqa: N802 - protobuf's name
        """A new GraphDef parsed from `data`."""
        graph_def = cls()
        graph_def.ParseFromString(data)
        return graph_def

    def CopyFrom(self, other):  # noqa: N802 - protobuf's name
        """Make this GraphDef a copy of `other`."""
        self.node = _NodeList(_copy(n) for n in other.node)

    def MergeFrom(self, other):  # noqa: N802 - protobuf's name
        """Append copies of `other`'s nodes."""
        self.node.extend(_copy(n) for n in other.node)

    def ByteSize(self):  # noqa: N802 - protobuf's name
        """The length of the compact form in bytes."""
        return len(self.SerializeToString())

    def __eq__(self, other):
        return isinstance(other, GraphDef) and graph_def_to_json(self) == graph_def_to_json(other)

    __hash__ = None

    def __repr__(self):
        return f"<GraphDef with {len(self.node)} nodes>"

    def __str__(self):
        return graph_def_text(self)


def _copy(node):
    copy = NodeDef()
    copy.CopyFrom(node)
    return copy


# ================================================================================================
# A Graph as a GraphDef
# ================================================================================================


def graph_to_graph_def(graph, add_shapes=False):
    """The GraphDef of `graph`, its ops in creation order; `add_shapes` records each op's static
    output shapes in the attribute ``_output_shapes`` (import_graph_def uses them again)."""
    graph_def = GraphDef()
    for op in graph.get_operations():
        described = op.node_def  # {"name", "op", "input" ("x:0", "^c"), "device", "attr"}
        attrs = dict(described["attr"])
        if add_shapes:
            attrs["_output_shapes"] = [t.shape for t in op.outputs]
        if getattr(op, "_gradient_op_type", None):  # set inside gradient_override_map, as TF records it
            attrs["_gradient_op_type"] = op._gradient_op_type
        inputs = [name[:-2] if name.endswith(":0") else name for name in described["input"]]
        graph_def.node.append(NodeDef(op.name, op.type, inputs, op.device, attrs))
    return graph_def


def parse_input(name):
    """A NodeDef input as (op name, output index, is_control): "x" -> ("x", 0, False),
    "x:1" -> ("x", 1, False), "^x" -> ("x", None, True)."""
    if name.startswith("^"):
        return name[1:], None, True
    op_name, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return op_name, int(index), False
    return name, 0, False


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """Write a Graph or GraphDef to `logdir/name` (the directory is made if missing), in the text
    form when `as_text`, else the compact form; returns the file's path. As TF's `tf.io.write_graph`."""
    graph_def = graph_or_graph_def
    if hasattr(graph_def, "as_graph_def"):
        graph_def = graph_def.as_graph_def()
    if not isinstance(graph_def, GraphDef):
        raise TypeError(f"write_graph needs a Graph or a GraphDef, not {type(graph_or_graph_def).__name__}")
    data = str(graph_def).encode("utf-8") if as_text else graph_def.SerializeToString()
    os.makedirs(logdir or ".", exist_ok=True)
    path = os.path.join(logdir, name)
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, path)  # a reader never sees half a file
    return path


# ================================================================================================
# Attribute values <-> JSON
# ================================================================================================


def _b64(raw):
    return base64.b64encode(raw).decode("ascii")


def encode_value(value, text=False):
    """`value` (an op attribute) as JSON data, tagged where JSON lacks the type (module docstring).

    Raises TypeError for a value no GraphDef can hold."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode_value(v, text) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v, text) for v in value]}
    if isinstance(value, bytes):
        return {"bytes": _b64(value)}
    if isinstance(value, _dtypes.DType):
        return {"dtype": value.name}
    if isinstance(value, TensorShape):
        return {"shape": None if value.ndims is None else value.as_list()}
    if isinstance(value, np.ndarray):
        return {"array": _encode_array(value, text)}
    if isinstance(value, np.generic):
        return {"scalar": {"dtype": value.dtype.name, "value": encode_value(value.item(), text)}}
    if isinstance(value, dict):
        return {"dict": [[encode_value(k, text), encode_value(v, text)] for k, v in value.items()]}
    raise TypeError(f"a {type(value).__name__} ({value!r}) cannot be stored in a GraphDef")


def _encode_array(array, text):
    doc = {"dtype": array.dtype.name, "shape": list(array.shape)}
    if array.dtype.kind in "OUS":  # strings (tf.string tensors hold bytes objects)
        doc["items"] = [encode_value(v if isinstance(v, bytes | str) else str(v), text)
                        for v in array.reshape(-1).tolist()]
    elif text and array.size <= _TEXT_ARRAY_LIMIT:
        doc["values"] = array.reshape(-1).tolist()
    else:
        little_endian = array.astype(array.dtype.newbyteorder("<"), copy=False)
        doc["data"] = _b64(np.ascontiguousarray(little_endian).tobytes())
    return doc


def decode_value(data):
    """The attribute value `data` (from `encode_value`) stands for; DecodeError when malformed."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode_value(v) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        raise DecodeError(f"not an attribute value: {data!r}")
    (tag, body), = data.items()
    try:
        if tag == "tuple":
            return tuple(decode_value(v) for v in body)
        if tag == "bytes":
            return base64.b64decode(body)
        if tag == "dtype":
            return _dtypes.as_dtype(body)
        if tag == "shape":
            return TensorShape(body)
        if tag == "array":
            return _decode_array(body)
        if tag == "scalar":
            return np.dtype(body["dtype"]).type(decode_value(body["value"]))
        if tag == "dict":
            return {decode_value(k): decode_value(v) for k, v in body}
    except (KeyError, TypeError, ValueError) as e:
        raise DecodeError(f"malformed {tag!r} attribute value {body!r}: {e}") from None
    raise DecodeError(f"unknown attribute value tag {tag!r}")


def _decode_array(doc):
    dtype, shape = np.dtype(doc["dtype"]), tuple(doc["shape"])
    if "items" in doc:
        array = np.empty(len(doc["items"]), dtype=object)
        array[:] = [decode_value(v) for v in doc["items"]]
    elif "values" in doc:
        array = np.array(doc["values"], dtype=dtype)
    else:
        array = np.frombuffer(base64.b64decode(doc["data"]), dtype=dtype.newbyteorder("<")).astype(dtype)
    array = array.reshape(shape)
    array.flags.writeable = False  # as tf.constant keeps them: kernels never write into an attribute
    return array


# ================================================================================================
# GraphDef <-> JSON documents
# ================================================================================================


def node_to_json(node, text=False):
    """A NodeDef as a JSON object (empty input, device and attr left out)."""
    doc = {"name": node.name, "op": node.op}
    if node.device:
        doc["device"] = node.device
    if node.input:
        doc["input"] = list(node.input)
    if node.attr:
        attrs = {}
        for key in sorted(node.attr):
            try:
                attrs[key] = encode_value(node.attr[key], text)
            except TypeError as e:
                raise TypeError(f"GraphDef: attr '{key}' of node '{node.name}' (op {node.op}): {e}") from None
        doc["attr"] = attrs
    return doc


def node_from_json(doc):
    """The NodeDef a JSON object from `node_to_json` describes."""
    try:
        return NodeDef(doc["name"], doc["op"], doc.get("input", []), doc.get("device", ""),
                       {key: decode_value(value) for key, value in doc.get("attr", {}).items()})
    except (KeyError, TypeError, AttributeError) as e:
        raise DecodeError(f"malformed NodeDef {str(doc)[:200]}: {e!r}") from None


def graph_def_to_json(graph_def, text=False):
    """A GraphDef as the JSON document of the module docstring."""
    return {"format": GRAPH_DEF_FORMAT, "version": GRAPH_DEF_VERSION,
            "node": [node_to_json(n, text) for n in graph_def.node]}


def graph_def_from_json(doc):
    """The GraphDef in a JSON document (already checked by `parse_document`)."""
    if not isinstance(doc.get("node", []), list):
        raise DecodeError("malformed GraphDef: 'node' is not a list")
    return GraphDef([node_from_json(n) for n in doc.get("node", [])])


def _node_text(doc, indent="  "):
    head = {key: doc[key] for key in ("name", "op", "device") if key in doc}
    lines = [indent + "{" + json.dumps(head)[1:-1]]
    if "input" in doc:
        lines.append(f'{indent} "input": {json.dumps(doc["input"])}')
    if "attr" in doc:
        attrs = [f"{indent}  {json.dumps(key)}: {json.dumps(value)}" for key, value in doc["attr"].items()]
        lines.append(f'{indent} "attr": {{\n' + ",\n".join(attrs) + "}")
    return ",\n".join(lines) + "}"


def graph_def_text(graph_def, indent=""):
    """The text form: valid JSON, one node per few lines, small arrays as lists of numbers."""
    nodes = ",\n".join(_node_text(node_to_json(n, text=True), indent + "  ") for n in graph_def.node)
    return (f'{{"format": "{GRAPH_DEF_FORMAT}", "version": {GRAPH_DEF_VERSION}, "node": [\n'
            f"{nodes}]}}" + ("" if indent else "\n"))


def parse_document(data, format_name, what):
    """The JSON document in `data` (bytes or str) with ``"format": format_name``; DecodeError saying
    what the bytes are instead (TensorFlow's protobuf files among them)."""
    raw = bytes(data) if isinstance(data, bytearray | memoryview) else data
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes):
        raise TypeError(f"ParseFromString needs bytes, not {type(data).__name__}")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except ValueError:  # not UTF-8, or not JSON
        raise DecodeError(f"Error parsing message: these {len(raw)} bytes are not a tfcore {what}: "
                          f"{_what_it_looks_like(raw)}") from None
    if not isinstance(doc, dict) or doc.get("format") != format_name:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise DecodeError(f"Error parsing message: a tfcore {what} is a JSON document with \"format\": "
                          f"\"{format_name}\", but this one's format is {found!r}.")
    return doc


def _what_it_looks_like(raw):
    """A sentence naming the format the bytes `raw` seem to be in, and the one tfcore reads."""
    ours = (f"tfcore reads only its own format ({GRAPH_DEF_FORMAT} JSON, written by tfcore's "
            "as_graph_def, write_graph and export_meta_graph; see tfcore/framework/graph_def.py).")
    if raw[:1] in (b"\x0a", b"\x12", b"\x1a", b"\x22"):  # field 1-4, length-delimited: a protobuf
        return ("they look like a TensorFlow protobuf (a binary GraphDef or MetaGraphDef: a .pb or .meta "
                "file written by TensorFlow), which tfcore cannot read; " + ours)
    words = re.match(rb"\s*([a-z_]+)\s*[{:]", raw)
    if words and words.group(1) in (b"node", b"meta_info_def", b"graph_def", b"versions", b"library"):
        return "they look like a TensorFlow text protobuf (.pbtxt), which tfcore cannot read; " + ours
    return ours
