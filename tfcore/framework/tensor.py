"""`Tensor` and `Operation`, the nodes and edges of a `Graph`, and the default session they run in.

An Operation records its type, inputs, attributes and control inputs; each of its outputs is a
Tensor with a static shape and dtype. Neither holds a value: `Session.run` computes values.
"""

import threading

from tfcore.framework import dtypes as _dtypes
from tfcore.framework.registry import get_op_def
from tfcore.framework.tensor_shape import as_shape


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


# --- the default session ---------------------------------------------------------------------
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
