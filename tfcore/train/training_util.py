"""The global step: the int64 variable "global_step" that counts training steps.

`optimizer.minimize(loss, global_step=step)` adds one to it after each step; learning-rate
schedules read it. `get_or_create_global_step()` makes it (non-trainable, in the GLOBAL_VARIABLES
and GLOBAL_STEP collections) or returns the one the graph has. Classic code often makes its own,
`tf.Variable(0, trainable=False)`; that works as a `global_step` argument too.
"""

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, Tensor, get_default_graph
from tfcore.ops.constant_op import constant
from tfcore.ops.scopes import get_variable
from tfcore.ops.variables import Variable
from tfcore.platform import tf_logging

# Public names, exported as tf.train.<name>.
__all__ = [
    "global_step",
    "get_global_step",
    "create_global_step",
    "get_or_create_global_step",
    "assert_global_step",
]


def global_step(sess, global_step_tensor):
    """The current value of `global_step_tensor` in `sess`, as a Python int."""
    return int(sess.run(global_step_tensor))


def get_global_step(graph=None):
    """The graph's global step: the variable in GLOBAL_STEP, else the tensor "global_step:0", else None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) == 1:
        step = found[0]
    elif not found:
        try:
            step = graph.get_tensor_by_name("global_step:0")
        except KeyError:
            return None
    else:
        tf_logging.error("Multiple tensors in global_step collection.")
        return None
    assert_global_step(step)
    return step


def create_global_step(graph=None):
    """Make the int64 scalar variable "global_step" (starting at 0); ValueError if there is one."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError('"global_step" already exists.')
    with graph.as_default(), graph.name_scope(""):
        return get_variable(GraphKeys.GLOBAL_STEP, shape=[], dtype=dtypes.int64,
                            initializer=_zeros_initializer, trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph=None):
    """The graph's global step, made first if it has none."""
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    if step is None:
        step = create_global_step(graph)
    return step


def assert_global_step(global_step_tensor):
    """TypeError unless `global_step_tensor` is an integer scalar Variable or Tensor."""
    if not isinstance(global_step_tensor, Variable | Tensor):
        raise TypeError(f'Existing "global_step" must be a Variable or Tensor: {global_step_tensor}.')
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f'Existing "global_step" does not have integer type: {global_step_tensor.dtype}')
    shape = global_step_tensor.get_shape()
    if shape.ndims != 0 and shape.is_fully_defined():
        raise TypeError(f'Existing "global_step" is not scalar: {shape}')


def _zeros_initializer(shape, dtype=dtypes.int64, partition_info=None):
    """TF's zeros_initializer as get_variable calls it (its op is named "zeros")."""
    return constant(0, dtype=dtype, shape=shape, name="zeros")
