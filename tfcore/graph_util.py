"""`tf.graph_util`: freezing a trained graph (`convert_variables_to_constants`) and cutting out the
part of a GraphDef some outputs need (`extract_sub_graph`).

A frozen graph holds every variable the outputs read as a `Const` with the value the session has
now, so it runs after `tf.import_graph_def` with no checkpoint to restore. Which nodes are
variables comes from the op registry (the `variable` fact), not from op type names.
"""

from tfcore.framework.dtypes import as_dtype
from tfcore.framework.graph_def import GraphDef, NodeDef, parse_input
from tfcore.framework.registry import get_op_def
from tfcore.ops.importer import import_graph_def

__all__ = ["GraphDef", "NodeDef", "import_graph_def", "convert_variables_to_constants", "extract_sub_graph"]


def _node_names(names):
    return [names] if isinstance(names, str) else list(names)


def extract_sub_graph(graph_def, dest_nodes):
    """The nodes `dest_nodes` (op names) need, through data and control inputs, in their order."""
    if not isinstance(graph_def, GraphDef):
        raise TypeError("graph_def must be a GraphDef")
    dest_nodes = _node_names(dest_nodes)
    nodes = {node.name: node for node in graph_def.node}
    for name in dest_nodes:
        if name not in nodes:
            raise AssertionError(f"{name} is not in graph")
    needed, stack = set(), list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        stack.extend(parse_input(ref)[0] for ref in nodes[name].input)
    kept = GraphDef()
    for node in graph_def.node:
        if node.name in needed:
            kept.node.add().CopyFrom(node)
    return kept


def _is_variable(node):
    try:
        return get_op_def(node.op).variable
    except KeyError:
        return False


def convert_variables_to_constants(sess, input_graph_def, output_node_names, variable_names_whitelist=None,
                                   variable_names_blacklist=None):
    """The part of `input_graph_def` the outputs need, with each variable it reads replaced by a
    Const holding the variable's value in `sess`."""
    sub_graph = extract_sub_graph(input_graph_def, output_node_names)
    frozen = [node.name for node in sub_graph.node if _is_variable(node)
              and (variable_names_whitelist is None or node.name in variable_names_whitelist)
              and (variable_names_blacklist is None or node.name not in variable_names_blacklist)]
    values = sess.run([sess.graph.get_tensor_by_name(name + ":0") for name in frozen]) if frozen else []
    values = dict(zip(frozen, values))
    result = GraphDef()
    for node in sub_graph.node:
        if node.name in values:
            dtype = as_dtype(node.attr["dtype"]).base_dtype
            value = values[node.name].astype(dtype.as_numpy_dtype, copy=True)
            value.flags.writeable = False
            attrs = {"value": value, "dtype": dtype}
            if "_output_shapes" in node.attr:
                attrs["_output_shapes"] = node.attr["_output_shapes"]
            result.node.append(NodeDef(node.name, "Const", [], node.device, attrs))
            continue
        updated = [ref for i, ref in enumerate(node.input) if i in get_op_def(node.op).ref_inputs
                   and parse_input(ref)[0] in values]
        if updated:
            raise ValueError(f"convert_variables_to_constants: node '{node.name}' ({node.op}) updates "
                             f"variable '{parse_input(updated[0])[0]}', which is frozen into a constant.")
        result.node.add().CopyFrom(node)
    return result
