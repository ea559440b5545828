"""`tf.import_graph_def`: build the ops a GraphDef describes into the default graph.

Every node becomes an op through `apply_op`, the path ops built by hand take, so its type must be
registered and its shapes are checked again. Nodes are built inputs first (a GraphDef may list them
in any order). `input_map` replaces tensors of the GraphDef by tensors of this graph; `name` (default
"import", made unique like a name scope; "" for none) prefixes every imported op's name.
"""

import contextlib

from tfcore.framework.conversion import convert_to_tensor
from tfcore.framework.graph import Operation, apply_op, get_default_graph
from tfcore.framework.graph_def import GraphDef, parse_input
from tfcore.framework.registry import get_op_def

__all__ = ["import_graph_def"]


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None, op_dict=None,
                     producer_op_list=None):
    """Import `graph_def` into the default graph; returns the Tensors ("x:0") and Operations ("x")
    named in `return_elements` (None when not asked for)."""
    _, found = import_nodes(graph_def, input_map, return_elements, name)
    return found


def import_nodes(graph_def, input_map=None, return_elements=None, name=None):
    """(prefix of the imported names, e.g. "import/", the requested return elements)."""
    if not isinstance(graph_def, GraphDef):
        raise TypeError(f"import_graph_def needs a GraphDef, not {type(graph_def).__name__}")
    input_map = _tensor_names(input_map or {})
    nodes = {node.name: node for node in graph_def.node}
    graph = get_default_graph()
    with graph.name_scope("import" if name is None else name) as prefix, graph.control_dependencies(None):
        ops, used = {}, set()
        affected = set()  # nodes downstream of a mapped tensor: their recorded shapes may not hold
        for node in _in_order(graph_def, nodes, input_map):
            ops[node.name] = _build(graph, node, prefix, ops, input_map, used, affected)
    unused = sorted(set(input_map) - used)
    if unused:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(unused)}]")
    if return_elements is None:
        return prefix, None
    return prefix, [_element(ops, e) for e in return_elements]


def _tensor_names(input_map):
    """input_map with keys as "x:0" (TF allows "x" for output 0) and values as Tensors."""
    mapped = {}
    for key, value in input_map.items():
        op_name, index, control = parse_input(key)
        mapped[key if control else f"{op_name}:{index}"] = value if control else convert_to_tensor(value)
    return mapped


def _in_order(graph_def, nodes, input_map):
    """The nodes with every node after the nodes it reads (GraphDef order where free)."""
    pending = {}
    for node in graph_def.node:
        if get_op_def_or_none(node.op) is None:
            raise ValueError(f"import_graph_def: node '{node.name}' has op type '{node.op}', which tfcore "
                             f"does not have (no op is registered for type '{node.op}').")
        needs = set()
        for ref in node.input:
            op_name, index, control = parse_input(ref)
            if not control and f"{op_name}:{index}" in input_map:
                continue
            if op_name not in nodes:
                raise ValueError(f"Node '{node.name}': Unknown input node '{ref}'")
            needs.add(op_name)
        pending[node.name] = needs
    order, done = [], set()
    while pending:
        ready = [n for n, needs in pending.items() if needs <= done]
        if not ready:
            raise ValueError(f"import_graph_def: the GraphDef has a cycle through {sorted(pending)[:5]}")
        for n in ready:
            order.append(nodes[n])
            done.add(n)
            del pending[n]
    return order


def get_op_def_or_none(op_type):
    """The OpDef registered for `op_type`, or None."""
    try:
        return get_op_def(op_type)
    except KeyError:
        return None


def _build(graph, node, prefix, ops, input_map, used, affected):
    """Build one node as an op named prefix + node.name; returns the Operation."""
    inputs, controls = [], []
    for ref in node.input:
        op_name, index, control = parse_input(ref)
        key = ref if control else f"{op_name}:{index}"
        if key in input_map:
            used.add(key)
            affected.add(node.name)
            tensor = input_map[key]
            if control:
                controls.append(tensor if isinstance(tensor, Operation) else tensor.op)
                continue
            if op_name in ops and tensor.dtype.base_dtype != ops[op_name].outputs[index].dtype.base_dtype:
                raise ValueError(f"Input {len(inputs)} of node {prefix}{node.name} was passed "
                                 f"{tensor.dtype.base_dtype.name} from {tensor.name} incompatible with "
                                 f"expected {ops[op_name].outputs[index].dtype.base_dtype.name}.")
            inputs.append(tensor)
            continue
        affected.update([node.name] if op_name in affected else [])
        if control:
            controls.append(ops[op_name])
        elif index >= len(ops[op_name].outputs):
            raise ValueError(f"Node '{node.name}': input '{ref}' names output {index} of an op with "
                             f"{len(ops[op_name].outputs)} outputs")
        else:
            inputs.append(ops[op_name].outputs[index])
    attrs = {k: v for k, v in node.attr.items() if not k.startswith("_")}  # "_..." are tfcore's notes
    graph.unique_name(node.name)  # marks the name as taken, as building the op by hand would
    device = graph.device(node.device) if node.device else contextlib.nullcontext()
    with graph.control_dependencies(controls), device:
        result = apply_op(node.op, inputs, attrs, name=prefix + node.name + "/")
    op = result if isinstance(result, Operation) else (result[0] if isinstance(result, list) else result).op
    if node.attr.get("_gradient_op_type"):
        op._gradient_op_type = node.attr["_gradient_op_type"]
    if "_output_shapes" in node.attr and node.name not in affected:
        for tensor, shape in zip(op.outputs, node.attr["_output_shapes"]):
            tensor.set_shape(shape)  # shapes a wrapper refined (set_shape) after building the op
    return op


def _element(ops, name):
    """The imported Tensor ("x:0") or Operation ("x") that return element `name` names."""
    if not isinstance(name, str):
        raise TypeError(f"return_elements must be names (strings), not {type(name).__name__}")
    if ":" in name:
        op_name, index, _ = parse_input(name)
        if op_name in ops and index < len(ops[op_name].outputs):
            return ops[op_name].outputs[index]
        raise ValueError(f"Requested return tensor '{name}' not found in graph def")
    if name in ops:
        return ops[name]
    raise ValueError(f"Requested return node '{name}' not found in graph def")
