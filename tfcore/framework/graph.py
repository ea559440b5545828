"""The dataflow graph: `Graph`, with names, scopes and collections, and `apply_op`, which builds ops.

Building a graph computes nothing: each op records its inputs, attributes and the static shape and
dtype of its outputs (checked by the op's shape function, so mistakes surface here, at build time).
A `Session` later runs the parts of the graph a fetch needs. `Operation` and `Tensor` live in
tensor.py, `convert_to_tensor` in conversion.py; both are re-exported here, where TF has them.
"""

import contextlib
import re
import threading

from tfcore.framework import dtypes as _dtypes
from tfcore.framework.conversion import (  # noqa: F401 - re-exported
    convert_to_tensor,
    is_tensor,
    register_tensor_conversion_function,
)
from tfcore.framework.device_spec import canonical
from tfcore.framework.graph_def import graph_to_graph_def
from tfcore.framework.registry import get_op_def
from tfcore.framework.tensor import (  # noqa: F401 - re-exported
    Operation,
    Tensor,
    _require_default_session,
    get_default_session,
)
from tfcore.framework.tensor_shape import TensorShape, as_shape


class GraphKeys:
    """Standard collection names."""

    GLOBAL_VARIABLES = "variables"
    VARIABLES = GLOBAL_VARIABLES
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOSSES = "losses"
    SUMMARIES = "summaries"
    GLOBAL_STEP = "global_step"
    UPDATE_OPS = "update_ops"
    TRAIN_OP = "train_op"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    SAVERS = "savers"
    QUEUE_RUNNERS = "queue_runners"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"


class Graph:
    """A TensorFlow computation: operations, their names, collections and the scopes in force."""

    def __init__(self):
        self._ops = []
        self._ops_by_name = {}
        self._names_in_use = {}
        self._name_stack = ""
        self._control_dependencies_stack = []
        self._gradient_override_map = {}  # op type -> gradient name, inside gradient_override_map()
        self._device_stack = []
        self._collections = {}
        self._finalized = False
        self._op_counter = 0
        self.seed = None
        # Contexts that see every op built inside them (a `cond` branch, tfcore/ops/control_flow_ops.py):
        # the innermost one's `capture(tensor)` gives each input, and `add_op(op)` sees the new op.
        self._control_flow_contexts = []
        self._lock = threading.RLock()

    # --- building -------------------------------------------------------------------------------
    def _next_id(self):
        self._op_counter += 1
        return self._op_counter

    def _check_not_finalized(self):
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")

    def finalize(self):
        """Make the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    def create_op(self, type, inputs, attrs, name, outputs):
        """Add an Operation (inputs already converted, outputs from the shape function)."""
        with self._lock:
            self._check_not_finalized()
            name = name[:-1] if name.endswith("/") else self.unique_name(name)
            if name in self._ops_by_name:
                raise ValueError(f"Duplicate node name in graph: '{name}'")
            control = self._current_control_dependencies(inputs)
            device = self._device_stack[-1] if self._device_stack else ""
            op = Operation(self, type, name, inputs, attrs, outputs, control, device)
            op._gradient_op_type = self._gradient_override_map.get(type)
            self._ops.append(op)
            self._ops_by_name[name] = op
            return op

    def _current_control_dependencies(self, inputs):
        ops = []
        for frame in self._control_dependencies_stack:
            for op in frame:
                if op not in ops:
                    ops.append(op)
        input_ops = {t.op for t in inputs}
        return [op for op in ops if op not in input_ops]

    # --- names ----------------------------------------------------------------------------------
    def unique_name(self, name, mark_as_used=True):
        """`name` under the current name scope, suffixed `_1`, `_2`, ... when already taken."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        key = name.lower()
        i = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = i + 1
        if i > 0:
            base = key
            while key in self._names_in_use:
                key = f"{base}_{i}"
                i += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{i - 1}"
        return name

    def get_name_scope(self):
        return self._name_stack

    @contextlib.contextmanager
    def name_scope(self, name):
        """Open name scope `name` (made unique); yields the scope string ending in "/"."""
        old = self._name_stack
        if not name:
            new = ""
        elif name.endswith("/"):
            new = name[:-1]
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield "" if not new else new + "/"
        finally:
            self._name_stack = old

    # --- lookups --------------------------------------------------------------------------------
    def get_operations(self):
        return list(self._ops)

    def get_operation_by_name(self, name):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        if ":" in name:
            raise ValueError(f"Name '{name}' looks like a (invalid) Tensor name, not an Operation name.")
        try:
            return self._ops_by_name[name]
        except KeyError:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name):
        if not isinstance(name, str) or ":" not in name:
            raise ValueError(f"The name '{name}' looks like an (invalid) Operation name, not a Tensor. "
                             "Tensor names must be of the form \"<op_name>:<output_index>\".")
        op_name, index = name.rsplit(":", 1)
        if op_name not in self._ops_by_name:
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. "
                           f"The operation, '{op_name}', does not exist in the graph.")
        op = self._ops_by_name[op_name]
        index = int(index)
        if index >= len(op.outputs):
            raise KeyError(f"The name '{name}' refers to a Tensor which does not exist. The operation, "
                           f"'{op_name}', exists but only has {len(op.outputs)} outputs.")
        return op.outputs[index]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolve a fetch (Tensor, Operation, Variable or name) to a Tensor or Operation here."""
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
        if isinstance(obj, Tensor | Operation):
            if obj.graph is not self:
                raise ValueError(f"{obj!r} is not an element of this graph.")
            if isinstance(obj, Tensor) and not allow_tensor:
                raise TypeError(f"Can not convert a Tensor into an Operation: {obj.name}")
            return obj
        raise TypeError(f"Can not convert a {type(obj).__name__} into a Tensor or Operation.")

    # --- collections ----------------------------------------------------------------------------
    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for name in ([names] if isinstance(names, str) else names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_collection(self, name, scope=None):
        """A copy of collection `name`; with `scope`, only items whose name matches it (re.match)."""
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pattern = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pattern.match(i.name)]

    def get_all_collection_keys(self):
        return [k for k, v in self._collections.items() if v]

    def clear_collection(self, name):
        self._collections.pop(name, None)

    # --- context managers -----------------------------------------------------------------------
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run only after `control_inputs` (ops or tensors); None clears them."""
        if control_inputs is None:
            saved = self._control_dependencies_stack
            self._control_dependencies_stack = []
            try:
                yield
            finally:
                self._control_dependencies_stack = saved
            return
        frame = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element"):
                c = c._as_graph_element()
            if isinstance(c, Tensor):
                c = c.op
            if not isinstance(c, Operation):
                raise TypeError(f"Control input must be an Operation or a Tensor: {c!r}")
            frame.append(c)
        self._control_dependencies_stack.append(frame)
        try:
            yield
        finally:
            self._control_dependencies_stack.pop()

    @contextlib.contextmanager
    def device(self, device_name):
        """Ops created inside are placed on `device_name` (e.g. "/cpu:0", "/gpu:0")."""
        self._device_stack.append(_canonical_device(device_name))
        try:
            yield
        finally:
            self._device_stack.pop()

    @contextlib.contextmanager
    def as_default(self):
        """Make this graph the default graph inside the `with` block."""
        _default_graph_stack.stack.append(self)
        try:
            yield self
        finally:
            _default_graph_stack.stack.pop()

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        """Ops of the mapped types built inside the block take the gradient registered under the new
        name (`RegisterGradient`) instead of their own, as in TF: {"Square": "MySquareGrad"}."""
        if not isinstance(op_type_map, dict) or not all(
                isinstance(key, str) and isinstance(value, str) for key, value in op_type_map.items()):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = self._gradient_override_map
        self._gradient_override_map = {**saved, **op_type_map}
        try:
            yield
        finally:
            self._gradient_override_map = saved

    def as_graph_def(self, from_version=None, add_shapes=False):
        """This graph as a `GraphDef` (tfcore/framework/graph_def.py); `add_shapes` records output shapes."""
        return graph_to_graph_def(self, add_shapes=add_shapes)

    @property
    def version(self):
        return self._op_counter

    @property
    def building_function(self):
        return False


def _canonical_device(name):
    """The stamp for ops built under ``tf.device(name)``: "/gpu:0" -> "/device:GPU:0"; None -> ""."""
    if callable(name):
        raise TypeError("Device functions are not supported; pass a device string.")
    return canonical(name)


# --- default graph and default session --------------------------------------------------------
class _DefaultGraphStack(threading.local):
    def __init__(self):
        self.stack = []


_default_graph_stack = _DefaultGraphStack()
_global_default_graph = [Graph()]


def get_default_graph():
    """The graph new ops go into: the innermost `as_default()` graph, else the global one."""
    if _default_graph_stack.stack:
        return _default_graph_stack.stack[-1]
    return _global_default_graph[0]


def reset_default_graph():
    """Replace the global default graph with a new, empty one."""
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a new graph.")
    _global_default_graph[0] = Graph()


def apply_op(type, inputs, attrs=None, name=None):
    """Build one op of `type` in the default graph: check shapes, name it, return its outputs.

    `inputs` must already be Tensors. Returns one Tensor for a single-output op, else the list.
    Shape errors raised by the op's shape function become a ValueError naming the op and the
    input shapes, as TensorFlow reports them.
    """
    attrs = attrs or {}
    graph = _graph_of(inputs)
    context = graph._control_flow_contexts[-1] if graph._control_flow_contexts else None
    if context is not None:
        inputs = [context.capture(t) for t in inputs]
    op_def = get_op_def(type)
    full_name = name[:-1] if name and name.endswith("/") else graph.unique_name(name or type,
                                                                                mark_as_used=False)
    try:
        outputs = op_def.shape(list(inputs), **attrs)
    except (ValueError, TypeError) as e:
        shapes = ", ".join(_shape_str(t.shape) for t in inputs)
        raise e.__class__(f"{e} for '{full_name}' (op: '{type}') with input shapes: {shapes}.") from None
    outputs = [(as_shape(s), _dtypes.as_dtype(d)) for s, d in outputs]
    op = graph.create_op(type, inputs, attrs, name if name and name.endswith("/") else name or type,
                         outputs)
    if context is not None:
        context.add_op(op)
    return op.outputs[0] if len(op.outputs) == 1 else op.outputs if op.outputs else op


def _shape_str(shape):
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _graph_of(inputs):
    graph = None
    for t in inputs:
        if graph is None:
            graph = t.graph
        elif t.graph is not graph:
            raise ValueError(f"Tensor {t.name} must be from the same graph as {inputs[0].name} "
                             "(tensors from two different graphs cannot be combined).")
    default = get_default_graph()
    if graph is None:
        return default
    return graph


TensorShape = TensorShape  # re-exported for ops modules
