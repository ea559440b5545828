"""The dataflow graph: `Graph`, `Operation` and `Tensor`, with names, scopes and collections.

Building a graph computes nothing: each op records its inputs, attributes and the static shape and
dtype of its outputs (checked by the op's shape function, so mistakes surface here, at build time).
A `Session` later runs the parts of the graph a fetch needs.
"""

import contextlib
import re
import threading

from tfcore import devices
from tfcore.framework import dtypes as _dtypes
from tfcore.framework.registry import get_op_def
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


class Tensor:
    """One output of an Operation: a symbolic handle whose value exists only inside `Session.run`.

    Tensors are hashable and compare by identity, so they can be `feed_dict` keys.
    """

    __array_priority__ = 100  # so that `ndarray + tensor` calls Tensor.__radd__

    def __init__(self, op, value_index, dtype, shape):
        self._op = op
        self._value_index = value_index
        self._dtype = _dtypes.as_dtype(dtype)
        self._shape = as_shape(shape)
        self._consumers = []

    op = property(lambda self: self._op)
    value_index = property(lambda self: self._value_index)
    dtype = property(lambda self: self._dtype)
    graph = property(lambda self: self._op.graph)
    device = property(lambda self: self._op.device)

    @property
    def name(self):
        return f"{self._op.name}:{self._value_index}"

    @property
    def shape(self):
        return self._shape

    def get_shape(self):
        """The static shape (dimensions may be None)."""
        return self._shape

    def set_shape(self, shape):
        """Refine the static shape; raises ValueError when incompatible."""
        self._shape = self._shape.merge_with(as_shape(shape))

    def consumers(self):
        return list(self._consumers)

    def eval(self, feed_dict=None, session=None):
        """Run this tensor in `session` (or the default session) and return its value."""
        session = session or _require_default_session("eval")
        return session.run(self, feed_dict=feed_dict)

    def __repr__(self):
        return f'<tf.Tensor \'{self.name}\' shape={self._shape} dtype={self._dtype.name}>'

    def __str__(self):
        shape = f", shape={self._shape}" if self._shape.ndims is not None else ""
        return f'Tensor("{self.name}"{shape}, dtype={self._dtype.name})'

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:`"
                        " to test whether it is defined, or tf.cond to branch on its value.")

    def __iter__(self):
        raise TypeError("'Tensor' object is not iterable; use tf.unstack to split it.")

    def __len__(self):
        raise TypeError("len is not well defined for a symbolic Tensor; use tf.shape.")


class Operation:
    """A node of the graph: an op type, its input tensors, attributes and output tensors."""

    def __init__(self, graph, type, name, inputs, attrs, outputs, control_inputs, device):
        self._graph = graph
        self._type = type
        self._name = name
        self._inputs = list(inputs)
        self._attrs = dict(attrs)
        self._control_inputs = list(control_inputs)
        self._device = device or ""
        self._id = graph._next_id()
        self._outputs = [Tensor(self, i, dt, sh) for i, (sh, dt) in enumerate(outputs)]
        for t in self._inputs:
            t._consumers.append(self)

    graph = property(lambda self: self._graph)
    type = property(lambda self: self._type)
    name = property(lambda self: self._name)
    outputs = property(lambda self: list(self._outputs))
    control_inputs = property(lambda self: list(self._control_inputs))
    device = property(lambda self: self._device)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def op_def(self):
        return get_op_def(self._type)

    def values(self):
        return tuple(self._outputs)

    def get_attr(self, name):
        if name not in self._attrs:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.")
        return self._attrs[name]

    def _set_device(self, device):
        self._device = device

    def _update_input(self, index, tensor):
        """Rewire input `index` to `tensor` (used by `cond` to route captured tensors)."""
        old = self._inputs[index]
        old._consumers.remove(self)
        self._inputs[index] = tensor
        tensor._consumers.append(self)

    def _add_control_input(self, op):
        if op not in self._control_inputs:
            self._control_inputs.append(op)

    def run(self, feed_dict=None, session=None):
        """Run this op in `session` (or the default session)."""
        session = session or _require_default_session("run")
        session.run(self, feed_dict=feed_dict)

    @property
    def node_def(self):
        return {"name": self._name, "op": self._type, "input": [t.name for t in self._inputs]
                + ["^" + c.name for c in self._control_inputs], "device": self._device,
                "attr": dict(self._attrs)}

    def __repr__(self):
        return f"<tf.Operation '{self._name}' type={self._type}>"

    def __str__(self):
        lines = [f'name: "{self._name}"', f'op: "{self._type}"']
        lines += [f'input: "{t.name}"' for t in self._inputs]
        lines += [f'input: "^{c.name}"' for c in self._control_inputs]
        return "\n".join(lines) + "\n"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other


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
        self._var_scope_store = None  # filled by tfcore.ops.variable_scope
        self._cond_stack = []  # CondContexts of the cond branches being built (control_flow_ops)
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

    def as_graph_def(self):
        """A plain description of the graph (used by summary.FileWriter.add_graph)."""
        return [op.node_def for op in self._ops]

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
    return devices.canonical(name)


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


class _DefaultSessionStack(threading.local):
    def __init__(self):
        self.stack = []


_default_session_stack = _DefaultSessionStack()


def get_default_session():
    """The innermost default session (`with sess.as_default()` or a `with Session()` block), or None."""
    return _default_session_stack.stack[-1] if _default_session_stack.stack else None


def _require_default_session(what):
    session = get_default_session()
    if session is None:
        raise ValueError(f"Cannot {what} using the default session: no default session is registered. "
                         "Use `with sess.as_default()` or pass an explicit session.")
    return session


# --- converting Python values to tensors -------------------------------------------------------
_conversion_functions = []  # (type, fn) for Variables and other tensor-likes


def register_tensor_conversion_function(base_type, conversion_func):
    _conversion_functions.append((base_type, conversion_func))


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None):
    """Return `value` as a Tensor: tensors pass through (dtype checked), values become constants."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype).base_dtype
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype.base_dtype != dtype:
            from tfcore.framework.errors import DTypeMismatchError
            raise DTypeMismatchError(f"Tensor conversion requested dtype {dtype.name} for Tensor with dtype "
                             f"{value.dtype.name}: {value}")
        return value
    for base_type, fn in _conversion_functions:
        if isinstance(value, base_type):
            return fn(value, dtype=dtype, name=name)
    if isinstance(value, Operation):
        raise TypeError(f"Can't convert Operation '{value.name}' to Tensor.")
    if isinstance(value, list | tuple) and any(isinstance(v, Tensor) or _is_tensor_like(v)
                                                for v in value):
        from tfcore.ops.join_ops import stack  # a list holding tensors packs them
        return stack(value, name=name or "packed")
    from tfcore.ops.constant_op import constant
    if dtype is None and preferred_dtype is not None:
        try:
            return constant(value, dtype=preferred_dtype, name=name or "Const")
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype, name=name or "Const")


def _is_tensor_like(value):
    return any(isinstance(value, t) for t, _ in _conversion_functions) or (
        isinstance(value, list | tuple) and any(_is_tensor_like(v) for v in value))


def is_tensor(value):
    return isinstance(value, Tensor) or _is_tensor_like(value)


def apply_op(type, inputs, attrs=None, name=None):
    """Build one op of `type` in the default graph: check shapes, name it, return its outputs.

    `inputs` must already be Tensors. Returns one Tensor for a single-output op, else the list.
    Shape errors raised by the op's shape function become a ValueError naming the op and the
    input shapes, as TensorFlow reports them.
    """
    attrs = attrs or {}
    graph = _graph_of(inputs)
    if graph._cond_stack:
        inputs = [graph._cond_stack[-1].capture(t) for t in inputs]
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
    if graph._cond_stack:
        from tfcore.ops.control_flow_ops import attach_to_cond_context
        attach_to_cond_context(graph, op)
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

# Build-time values of tensors live in constant_folding.py (it needs Tensor, defined above).
from tfcore.framework.constant_folding import constant_value, partial_shape_value  # noqa: E402, F401
