"""`tf.train.export_meta_graph` and `tf.train.import_meta_graph`.

`export_meta_graph` (tfcore/train/meta_graph_def.py, where the format is described) writes a graph,
its collections and its Saver; `Saver.save` writes one beside every checkpoint (`path.meta`).
`import_meta_graph(path or MetaGraphDef)` builds the graph into the default graph (through
`import_graph_def`, so every op is checked as when it was built), fills the collections again
(Variables as Variable objects over the imported ops, tensors and ops by name) and returns a Saver
for the imported variables, so that `saver.restore(sess, checkpoint)` works in a fresh graph.
"""

from tfcore.framework.graph import get_default_graph
from tfcore.framework.graph_def import decode_value
from tfcore.ops.importer import import_nodes
from tfcore.ops.variables import Variable
from tfcore.train.meta_graph_def import (  # noqa: F401 - re-exported
    MetaGraphDef,
    export_meta_graph,
    read_meta_graph_file,
)
from tfcore.train.saver import Saver


def _variable(graph, prefix, record):
    """A Variable over imported ops (what TF's `Variable(variable_def=...)` does): no new ops."""
    variable = Variable.__new__(Variable)
    variable._variable = graph.get_tensor_by_name(prefix + record["variable_name"])
    variable._initializer_op = graph.get_operation_by_name(prefix + record["initializer_name"])
    variable._snapshot = graph.get_tensor_by_name(prefix + record["snapshot_name"])
    variable._initial_value = graph.get_tensor_by_name(prefix + record["initial_value_name"])
    variable._trainable = bool(record.get("trainable", True))
    variable._constraint = None
    variable._save_slice_info = None
    return variable


def _restore_collections(graph, prefix, collection_def):
    """Add each stored collection's items to the graph's collections; returns {variable name: Variable}."""
    variables = {}
    for key, entries in collection_def.items():
        for entry in entries:
            if "variable" in entry:
                record = entry["variable"]
                name = record["variable_name"]
                if name not in variables:
                    variables[name] = _variable(graph, prefix, record)
                item = variables[name]
            elif "tensor" in entry:
                item = graph.get_tensor_by_name(prefix + entry["tensor"])
            elif "operation" in entry:
                item = graph.get_operation_by_name(prefix + entry["operation"])
            else:
                item = decode_value(entry["value"])
            graph.add_to_collection(key, item)
    return variables


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, input_map=None,
                      **kwargs):
    """Build a saved meta graph into the default graph; returns a Saver for its variables (None when
    it has none)."""
    meta = meta_graph_or_file
    if not isinstance(meta, MetaGraphDef):
        meta = read_meta_graph_file(meta_graph_or_file)
    graph_def = meta.graph_def
    if clear_devices:
        for node in graph_def.node:
            node.device = ""
    graph = get_default_graph()
    prefix, _ = import_nodes(graph_def, input_map, name=import_scope or "")
    variables = _restore_collections(graph, prefix, meta.collection_def)
    saver_def = meta.saver_def
    if saver_def:
        var_list = {key: variables[name] if name in variables else graph.get_tensor_by_name(prefix + name)
                    for key, name in saver_def["variables"].items()}
        return Saver(var_list=var_list, max_to_keep=saver_def.get("max_to_keep", 5),
                     keep_checkpoint_every_n_hours=saver_def.get("keep_checkpoint_every_n_hours", 10000.0))
    global_variables = [v for v in variables.values() if v in graph.get_collection("variables")]
    return Saver(var_list=global_variables) if global_variables else None
