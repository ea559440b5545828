"""Slot variables (TF's slot_creator): per-variable state named `<primary op name>/<name>`.

An optimizer keeps its per-variable state (Adam's moving averages, the momentum accumulator) in
slots, and `ExponentialMovingAverage` keeps its averages in them too. Slots are ordinary global,
non-trainable variables made with `variable_scope` and `get_variable`, as in TF1, so their names
and initializer ops are TF's (`w/Adam/Initializer/zeros`).
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import Tensor, get_default_graph
from tfcore.ops.array_ops import fill
from tfcore.ops.array_ops import shape as shape_of
from tfcore.ops.constant_op import constant
from tfcore.ops.scopes import get_variable, variable_scope
from tfcore.ops.variables import Variable

__all__ = ["create_filled_slot", "create_slot"]


def _filled_initializer(value, op_name):
    """An initializer `(shape, dtype, partition_info) -> tensor` filled with `value`.

    `op_name` is the name TF's initializer gives its op ("zeros", "ones", "Const").
    """
    def initializer(shape, dtype=dtypes.float32, partition_info=None):
        return constant(value, dtype=dtype, shape=shape, name=op_name)
    return initializer


def create_slot(primary, initial_value, name, dtype=None):
    """A slot variable for `primary` named `<primary op name>/<name>` (made unique with `_1`, ...).

    `initial_value` is a tensor, or a callable initializer `(shape, dtype, partition_info)` used
    when `primary`'s shape is fully defined. The slot is global and non-trainable.
    """
    dtype = dtypes.as_dtype(dtype or primary.dtype).base_dtype
    shape = primary.get_shape()
    if callable(initial_value) and not isinstance(initial_value, Tensor):
        kwargs = {"shape": shape, "validate_shape": True}
    else:
        kwargs = {"validate_shape": initial_value.get_shape().is_fully_defined()}
    graph = get_default_graph()
    # NOTE: slots are built outside any control dependencies in force (TF's init_scope).
    with graph.control_dependencies(None), variable_scope(None, default_name=primary.op.name + "/" + name):
        return get_variable("", initializer=initial_value, dtype=dtype, trainable=False, **kwargs)


def create_filled_slot(primary, value, name, dtype=None, initializer_name="zeros"):
    """A slot for `primary` whose every element starts at `value` (0 for most optimizer state).

    `initializer_name` names the initializer's op as TF's initializer does ("zeros", "ones", "Const").
    """
    dtype = dtypes.as_dtype(dtype or primary.dtype).base_dtype
    if primary.get_shape().is_fully_defined():
        return create_slot(primary, _filled_initializer(value, initializer_name), name, dtype)
    # Shape known only at run time: fill the shape of the primary's (initial) value.
    source = primary.initialized_value() if isinstance(primary, Variable) else primary
    with get_default_graph().control_dependencies(None):
        initial = fill(shape_of(source), constant(value, dtype=dtype))
    return create_slot(primary, initial, name, dtype)
