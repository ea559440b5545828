"""Variables: state that lives in a Session between runs, and the ops that read and assign it.

A `Variable` is three ops: `VariableV2` (the reference to the stored value), `<name>/Assign`
(its initializer) and `<name>/read` (an Identity that reads the value; what `matmul(x, w)` uses).
The value itself lives in each Session's variable store, so two sessions on one graph have
independent variables, as in TensorFlow.
"""


from tfcore.framework import dtypes, errors
from tfcore.framework.graph import (
    GraphKeys,
    Tensor,
    _require_default_session,
    apply_op,
    convert_to_tensor,
    get_default_graph,
    register_tensor_conversion_function,
)
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape, as_shape
from tfcore.ops.array_ops import identity
from tfcore.ops.control_flow_ops import cond, group, no_op

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "Variable",
    "assign",
    "assign_add",
    "assign_sub",
    "is_variable_initialized",
    "global_variables",
    "all_variables",
    "trainable_variables",
    "local_variables",
    "model_variables",
    "moving_average_variables",
    "variables_initializer",
    "global_variables_initializer",
    "local_variables_initializer",
    "initialize_all_variables",
    "initialize_variables",
    "initialize_local_variables",
]

# ================================================================================================
# VariableV2: the variable itself (the plan reads the session's store; see client/plan.py)
# ================================================================================================

register_op("VariableV2", shape=lambda inputs, shape, dtype: [(shape, dtype._as_ref())], kernel=None,
            variable=True)
NotDifferentiable("VariableV2")


# ================================================================================================
# Assign, AssignAdd, AssignSub: write a new value into the store (never in place)
# ================================================================================================


def _assign_shape(inputs, validate_shape=True, use_locking=False):
    ref, value = inputs
    if ref.dtype.base_dtype != value.dtype.base_dtype:
        raise ValueError(f"Input dtypes differ: {ref.dtype.base_dtype.name} vs {value.dtype.base_dtype.name}")
    if validate_shape and not ref.shape.is_compatible_with(value.shape):
        raise ValueError(f"Shapes {ref.shape} and {value.shape} are incompatible")
    shape = ref.shape if validate_shape else value.shape
    return [(shape, ref.dtype.base_dtype._as_ref())]


def _assign_kernel(ctx, ref, value, validate_shape=True, use_locking=False):
    if validate_shape and ref.initialized and ref.read().shape != value.shape:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"Assign requires shapes of both tensors to match. lhs shape= "
            f"{list(ref.read().shape)} rhs shape= {list(value.shape)}")
    ref.write(value)
    return value


def _assign_update_kernel(sign):
    def kernel(ctx, ref, value, use_locking=False):
        old = ref.read()
        if old.shape != value.shape and value.size != 1:
            raise errors.InvalidArgumentError(
                None, ctx.op, f"Cannot update variable with shape {list(old.shape)} using a Tensor with "
                f"shape {list(value.shape)}, shapes must be equal.")
        new = old + value if sign > 0 else old - value
        ref.write(new)
        return new
    return kernel


def _assign_update_shape(inputs, use_locking=False):
    return _assign_shape(inputs)


register_op("Assign", shape=_assign_shape, kernel=_assign_kernel, ref_inputs=(0,))
register_op("AssignAdd", shape=_assign_update_shape, kernel=_assign_update_kernel(+1),
            ref_inputs=(0,))
register_op("AssignSub", shape=_assign_update_shape, kernel=_assign_update_kernel(-1),
            ref_inputs=(0,))
for _t in ("Assign", "AssignAdd", "AssignSub"):
    NotDifferentiable(_t)


def ref_tensor(ref, needed_by="assign"):
    """The reference tensor of a Variable, or `ref` itself when it is one: what `assign` and the
    optimizers' Apply ops update, and what `tf.gradients` differentiates for a Variable."""
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.dtype.name.endswith("_ref"):
        return ref
    raise TypeError(f"{ref!r} is not a variable: {needed_by} needs a Variable (or its ref tensor).")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    """Store `value` in variable `ref`; the result is the new value."""
    ref = ref_tensor(ref)
    value = convert_to_tensor(value, dtype=ref.dtype.base_dtype)
    return apply_op("Assign", [ref, value], {"validate_shape": validate_shape is not False,
                                             "use_locking": bool(use_locking)}, name=name or "Assign")


def assign_add(ref, value, use_locking=None, name=None):
    """Add `value` to variable `ref`; the result is the new value."""
    ref = ref_tensor(ref)
    value = convert_to_tensor(value, dtype=ref.dtype.base_dtype)
    return apply_op("AssignAdd", [ref, value], {"use_locking": bool(use_locking)}, name=name or "AssignAdd")


def assign_sub(ref, value, use_locking=None, name=None):
    """Subtract `value` from variable `ref`; the result is the new value."""
    ref = ref_tensor(ref)
    value = convert_to_tensor(value, dtype=ref.dtype.base_dtype)
    return apply_op("AssignSub", [ref, value], {"use_locking": bool(use_locking)}, name=name or "AssignSub")


# ================================================================================================
# IsVariableInitialized
# ================================================================================================

register_op("IsVariableInitialized", shape=lambda inputs, **a: [(TensorShape([]), dtypes.bool)],
            kernel=lambda ctx, ref: ref.initialized, ref_inputs=(0,))
NotDifferentiable("IsVariableInitialized")


def is_variable_initialized(variable):
    """A bool tensor: has `variable` been initialized in this session?"""
    return apply_op("IsVariableInitialized", [ref_tensor(variable)], name="IsVariableInitialized")


# ================================================================================================
# The Variable class
# ================================================================================================


class Variable:
    """A TF1 variable: `tf.Variable(initial_value, name=..., trainable=True)`.

    Using it in an expression reads its current value (`<name>/read`); `sess.run(v)` fetches it.
    """

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None, expected_shape=None,
                 import_scope=None, constraint=None, use_resource=None, synchronization=None,
                 aggregation=None, shape=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        graph = get_default_graph()
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        self._trainable = trainable
        self._constraint = constraint
        with graph.control_dependencies(None), graph.name_scope(name or "Variable") as scope:
            if callable(initial_value):
                with graph.name_scope("Initializer"):
                    initial_value = initial_value()
            self._initial_value = convert_to_tensor(initial_value, name="initial_value", dtype=dtype)
            value_shape = self._initial_value.shape
            if shape is not None:
                value_shape = as_shape(shape)
            elif not validate_shape:
                value_shape = TensorShape(None)
            self._variable = apply_op("VariableV2", [], {"shape": value_shape,
                                                         "dtype": self._initial_value.dtype.base_dtype},
                                      name=scope)
            self._initializer_op = assign(self._variable, self._initial_value,
                                          validate_shape=validate_shape, name="Assign").op
            self._snapshot = identity(self._variable, name="read")
        graph.add_to_collections(collections, self)
        self._save_slice_info = None

    # --- what it is -----------------------------------------------------------------------------
    name = property(lambda self: self._variable.name)
    op = property(lambda self: self._variable.op)
    dtype = property(lambda self: self._variable.dtype)
    graph = property(lambda self: self._variable.graph)
    device = property(lambda self: self._variable.device)
    shape = property(lambda self: self._variable.shape)
    initializer = property(lambda self: self._initializer_op)
    initial_value = property(lambda self: self._initial_value)
    trainable = property(lambda self: self._trainable)
    constraint = property(lambda self: self._constraint)

    def get_shape(self):
        return self._variable.shape

    def set_shape(self, shape):
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    def value(self):
        """The tensor reading this variable's current value."""
        return self._snapshot

    def read_value(self):
        """A new Identity op reading the variable now."""
        return identity(self._variable, name="read")

    def _ref(self):
        return self._variable

    def _as_graph_element(self):
        return self._variable

    def initialized_value(self):
        """The value once initialized: the initial value when not yet initialized."""
        with get_default_graph().control_dependencies(None):
            return cond(is_variable_initialized(self), self.read_value, lambda: self._initial_value)

    def eval(self, session=None):
        """The current value in `session` (or the default session)."""
        return self._variable.eval(session=session)

    def load(self, value, session=None):
        """Assign `value` in `session` without adding ops to the graph: as TF does, it runs the
        variable's initializer with the initial value fed."""
        session = session or _require_default_session("load")
        initial = self._initializer_op.inputs[1]
        session.run(self._initializer_op, {initial: convert_value(value, self.dtype.base_dtype)})

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return assign(self._variable, value, use_locking=use_locking, name=name)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return assign_add(self._variable, delta, use_locking=use_locking, name=name)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return assign_sub(self._variable, delta, use_locking=use_locking, name=name)

    def __getitem__(self, key):
        return self._snapshot[key]

    def __repr__(self):
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __bool__(self):
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    def __iter__(self):
        raise TypeError("'Variable' object is not iterable.")


def convert_value(value, dtype):
    import numpy as np
    return np.array(value, dtype=dtype.as_numpy_dtype)


def _delegate(name):
    def method(self, *args):
        return getattr(self._snapshot, name)(*args)
    method.__name__ = name
    return method


for _op in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
            "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
            "__matmul__", "__rmatmul__", "__neg__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__",
            "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__", "__invert__"):
    setattr(Variable, _op, _delegate(_op))
Variable.__array_priority__ = 100

register_tensor_conversion_function(
    Variable, lambda v, dtype=None, name=None: convert_to_tensor(v._snapshot, dtype=dtype))


# ================================================================================================
# Collections and initializers
# ================================================================================================


def global_variables(scope=None):
    """All variables in the GLOBAL_VARIABLES collection (what Saver saves by default)."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None):
    """Variables created with trainable=True (what optimizers update by default)."""
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """One op that runs the initializers of `var_list`."""
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer():
    """The op that initializes every global variable (`sess.run(tf.global_variables_initializer())`)."""
    return variables_initializer(global_variables(), name="init")


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init")


initialize_all_variables = global_variables_initializer
initialize_variables = variables_initializer
initialize_local_variables = local_variables_initializer
