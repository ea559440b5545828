"""`MetaGraphDef` and `export_meta_graph`: a graph with its collections and its Saver, as one file.

A MetaGraphDef holds the `graph_def` (with output shapes), the `collection_def` (each string-keyed
collection as a list of entries: {"tensor": "loss:0"}, {"operation": "train"}, {"variable": {...}}
for a Variable, naming its four ops, or {"value": ...} for a plain value; items of other kinds are
left out with a warning, as TF does), the `saver_def` of the Saver that wrote it (its checkpoint keys
and variable names) and `meta_info_def`. The file is tfcore's own format, a JSON document like the
GraphDef's (tfcore/framework/graph_def.py) with ``"format": "tfcore-meta-graph", "version": 2``;
TensorFlow's .meta files cannot be read (DecodeError). `tf.train.import_meta_graph`
(tfcore/train/meta_graph.py) builds it again.
"""

import json

from tfcore.framework.graph import Operation, Tensor, get_default_graph
from tfcore.framework.graph_def import (
    GraphDef,
    encode_value,
    graph_def_from_json,
    graph_def_text,
    graph_def_to_json,
    parse_document,
)
from tfcore.ops.variables import Variable
from tfcore.platform import tf_logging
from tfcore.train.checkpoint_io import atomic_write_bytes

META_GRAPH_FORMAT = "tfcore-meta-graph"
META_GRAPH_VERSION = 2  # version 1 (tfcore before import_meta_graph) had no op attributes


class MetaGraphDef:
    """A graph, its collections and its saver: `graph_def`, `collection_def`, `saver_def`, `meta_info_def`."""

    def __init__(self, graph_def=None, collection_def=None, saver_def=None, meta_info_def=None):
        self.graph_def = graph_def if graph_def is not None else GraphDef()
        self.collection_def = dict(collection_def or {})
        self.saver_def = saver_def
        self.meta_info_def = dict(meta_info_def or {})

    def _document(self, text):
        return {"format": META_GRAPH_FORMAT, "version": META_GRAPH_VERSION,
                "meta_info_def": self.meta_info_def, "saver_def": self.saver_def,
                "collection_def": self.collection_def, "graph_def": graph_def_to_json(self.graph_def, text)}

    def SerializeToString(self):  # noqa: N802 - protobuf's name
        """The compact form: one line of JSON."""
        return json.dumps(self._document(False), separators=(",", ":")).encode("utf-8")

    def ParseFromString(self, data):  # noqa: N802 - protobuf's name
        """Replace this MetaGraphDef by the one in `data` (either form); returns len(data)."""
        doc = parse_document(data, META_GRAPH_FORMAT, "MetaGraphDef")
        if doc.get("version") != META_GRAPH_VERSION:
            raise ValueError(f"This tfcore meta graph has version {doc.get('version')}; tfcore reads "
                             f"version {META_GRAPH_VERSION} (older ones lack op attributes: save again)")
        self.graph_def = graph_def_from_json(doc["graph_def"])
        self.collection_def = dict(doc.get("collection_def") or {})
        self.saver_def = doc.get("saver_def")
        self.meta_info_def = dict(doc.get("meta_info_def") or {})
        return len(data)

    def __str__(self):
        """The text form: valid JSON, the graph a node per few lines."""
        head = json.dumps({k: v for k, v in self._document(True).items() if k != "graph_def"}, indent=1)
        return head[:-2] + ',\n "graph_def": ' + graph_def_text(self.graph_def, indent=" ") + "}\n"

    def __repr__(self):
        nodes, keys = len(self.graph_def.node), sorted(self.collection_def)
        return f"<MetaGraphDef with {nodes} nodes, collections {keys}>"


def _entry(item):
    """One collection item as a JSON entry; None when it cannot be stored."""
    if isinstance(item, Variable):
        return {"variable": {"variable_name": item.name, "initializer_name": item.initializer.name,
                             "snapshot_name": item.value().name,
                             "initial_value_name": item.initial_value.name, "trainable": item.trainable}}
    if isinstance(item, Tensor):
        return {"tensor": item.name}
    if isinstance(item, Operation):
        return {"operation": item.name}
    try:
        return {"value": encode_value(item)}
    except TypeError:
        return None


def collection_def_of(graph, collection_list=None):
    """{name: [entries]} for the graph's string-keyed collections (or those in `collection_list`)."""
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    collections = {}
    for key in keys:
        if not isinstance(key, str):
            continue  # tfcore's own bookkeeping (the variable store), as TF leaves out its non-string keys
        entries = [_entry(item) for item in graph.get_collection(key)]
        if any(e is None for e in entries):
            tf_logging.warning(f"Issue encountered when serializing {key}: an item of an unsupported type "
                               "was left out of the meta graph.")
        collections[key] = [e for e in entries if e is not None]
    return collections


def export_meta_graph(filename=None, meta_info_def=None, graph_def=None, saver_def=None,
                      collection_list=None, as_text=False, graph=None, export_scope=None,
                      clear_devices=False, clear_extraneous_savers=False, strip_default_attrs=False,
                      save_debug_info=False, **kwargs):
    """The MetaGraphDef of `graph` (the default graph), written to `filename` when given."""
    if export_scope:
        raise NotImplementedError("tfcore's export_meta_graph does not support export_scope")
    graph = graph or get_default_graph()
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    if clear_devices:
        copy = GraphDef()
        copy.CopyFrom(graph_def)
        for node in copy.node:
            node.device = ""
        graph_def = copy
    meta = MetaGraphDef(graph_def, collection_def_of(graph, collection_list), saver_def,
                        meta_info_def if isinstance(meta_info_def, dict) else {})
    if filename:
        data = str(meta).encode("utf-8") if as_text else meta.SerializeToString()
        atomic_write_bytes(filename, data)
    return meta


def read_meta_graph_file(filename):
    """The MetaGraphDef stored in `filename` (OSError when it does not exist)."""
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise OSError(f"File {filename} does not exist.") from None
    meta = MetaGraphDef()
    meta.ParseFromString(data)
    return meta
