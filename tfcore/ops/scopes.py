"""Name scopes, variable scopes and `get_variable`, plus the default-graph shortcuts.

`name_scope` prefixes op names (`layer1/MatMul`). `variable_scope` does that too, and also
prefixes the names of variables made by `get_variable` (`layer1/weights`), which live in a
per-graph store: asking again for the same name returns the same variable when the scope
reuses, and is an error otherwise. `name_scope` alone does not prefix `get_variable` names.
"""

import contextlib

from tfcore.framework import dtypes
from tfcore.framework.graph import GraphKeys, Tensor, get_default_graph
from tfcore.framework.tensor_shape import as_shape
from tfcore.ops import init_ops
from tfcore.ops.constant_op import constant, to_numpy
from tfcore.ops.variables import Variable

__all__ = [
    "name_scope",
    "variable_scope",
    "VariableScope",
    "get_variable",
    "get_variable_scope",
    "get_local_variable",
    "control_dependencies",
    "device",
    "add_to_collection",
    "add_to_collections",
    "get_collection",
    "get_collection_ref",
]

AUTO_REUSE = "AUTO_REUSE"


# ================================================================================================
# Shortcuts to the default graph
# ================================================================================================


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """Prefix the names of ops created inside with `name` (or `default_name` when name is None)."""
    graph = get_default_graph()
    if values:
        for v in values:
            if isinstance(v, Tensor):
                graph = v.graph
                break
    with graph.as_default(), graph.name_scope(name if name is not None else default_name) as scope:
        yield scope


def control_dependencies(control_inputs):
    """Ops created inside run only after `control_inputs` have run."""
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name):
    """Place ops created inside on `device_name` ("/cpu:0", "/gpu:0")."""
    return get_default_graph().device(device_name)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


# ================================================================================================
# Variable scopes
# ================================================================================================


class VariableScope:
    """The settings `get_variable` uses inside a `variable_scope`: name prefix, reuse, defaults."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, dtype=dtypes.float32,
                 name_scope="", custom_getter=None):
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._dtype = dtypes.as_dtype(dtype)
        self._name_scope = name_scope
        self._custom_getter = custom_getter

    name = property(lambda self: self._name)
    original_name_scope = property(lambda self: self._name_scope)
    reuse = property(lambda self: self._reuse)
    initializer = property(lambda self: self._initializer)
    regularizer = property(lambda self: self._regularizer)
    dtype = property(lambda self: self._dtype)
    custom_getter = property(lambda self: self._custom_getter)

    def reuse_variables(self):
        """From now on, get_variable in this scope returns existing variables."""
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def get_variable(self, name, *args, **kwargs):
        return get_variable(name, *args, **kwargs)


class _VariableStore:
    """Per-graph: the variables made by get_variable, and the current scope."""

    def __init__(self):
        self.variables = {}
        self.scope = VariableScope(False)
        self.default_name_counts = {}


# The graph collection holding a graph's variable store (TF keeps it in a collection too).
_VARIABLE_STORE_KEY = ("__variable_store",)


def _store(graph=None):
    """The graph's variable store: its variables by name, the scope in force and name counts."""
    collection = (graph or get_default_graph()).get_collection_ref(_VARIABLE_STORE_KEY)
    if not collection:
        collection.append(_VariableStore())
    return collection[0]


def get_variable_scope():
    """The VariableScope in force."""
    return _store().scope


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None, regularizer=None,
                   caching_device=None, partitioner=None, custom_getter=None, reuse=None, dtype=None,
                   use_resource=None, constraint=None, auxiliary_name_scope=True):
    """Open a variable scope: prefixes get_variable names and op names; `reuse` is inherited."""
    graph = get_default_graph()
    store = _store(graph)
    parent = store.scope
    if name_or_scope is None and default_name is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if reuse is False:
        reuse = None  # TF1: reuse=False means "inherit"
    if isinstance(name_or_scope, VariableScope):
        name = name_or_scope.name
        base = name_or_scope
        name_scope_str = name_or_scope.original_name_scope
        inherited_reuse = name_or_scope.reuse
    else:
        if name_or_scope is None:
            prefix = parent.name + "/" if parent.name else ""
            key = prefix + default_name
            count = store.default_name_counts.get(key, 0)
            store.default_name_counts[key] = count + 1
            short = default_name if count == 0 else f"{default_name}_{count}"
        else:
            short = name_or_scope
        name = (parent.name + "/" + short if parent.name else short) if short else parent.name
        base = parent
        name_scope_str = None
        inherited_reuse = parent.reuse
    new_reuse = True if reuse is True or inherited_reuse is True else (
        AUTO_REUSE if reuse == AUTO_REUSE or inherited_reuse == AUTO_REUSE else False)
    scope = VariableScope(
        new_reuse, name=name,
        initializer=initializer if initializer is not None else base.initializer,
        regularizer=regularizer if regularizer is not None else base.regularizer,
        dtype=dtype if dtype is not None else base.dtype,
        custom_getter=custom_getter if custom_getter is not None else base.custom_getter)
    current = graph.get_name_scope() + "/" if graph.get_name_scope() else ""
    if not auxiliary_name_scope or name_or_scope == "":
        ns = contextlib.nullcontext(current)
    elif name_scope_str is not None:  # re-entering a scope object: its original name scope
        ns = graph.name_scope(name_scope_str)
    else:
        ns = graph.name_scope(short)
    saved_counts = dict(store.default_name_counts)
    with ns as ns_string:
        scope._name_scope = ns_string
        store.scope = scope
        try:
            yield scope
        finally:
            store.scope = parent
            _close_subscopes(store, name, saved_counts if isinstance(name_or_scope, VariableScope) else None)


def _close_subscopes(store, name, saved_counts):
    """As TF: leaving a scope named by a string forgets the default names counted inside it (so a
    second `variable_scope("model", reuse=True)` names its layers `model/dense` again); leaving a
    re-entered scope object restores the counts it found."""
    if saved_counts is not None:
        store.default_name_counts = saved_counts
        return
    inside = name + "/" if name else ""
    for key in [k for k in store.default_name_counts if k.startswith(inside) and inside]:
        del store.default_name_counts[key]


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None, trainable=None,
                 collections=None, caching_device=None, partitioner=None, validate_shape=True,
                 use_resource=None, custom_getter=None, constraint=None, synchronization=None,
                 aggregation=None):
    """The variable `<scope>/<name>`: created on first use, returned again when the scope reuses."""
    store = _store()
    scope = store.scope
    full_name = f"{scope.name}/{name}" if scope.name else name
    dtype = _variable_dtype(dtype, initializer, scope)
    if trainable is None:
        trainable = True
    shape = as_shape(shape) if shape is not None else None
    if full_name in store.variables:
        if scope.reuse is False or scope.reuse is None:
            raise ValueError(f"Variable {full_name} already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?")
        var = store.variables[full_name]
        if shape is not None and not shape.is_compatible_with(var.shape):
            raise ValueError(f"Trying to share variable {full_name}, but specified shape {shape} and "
                             f"found shape {var.shape}.")
        if dtype != var.dtype.base_dtype:
            raise ValueError(f"Trying to share variable {full_name}, but specified dtype {dtype.name} and "
                             f"found dtype {var.dtype.base_dtype.name}.")
        return var
    if scope.reuse is True:
        raise ValueError(f"Variable {full_name} does not exist, or was not created with tf.get_variable(). "
                         "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
    initializer = initializer if initializer is not None else scope.initializer
    if initializer is None:
        initializer = init_ops.glorot_uniform_initializer() if dtype.is_floating else \
            init_ops.zeros_initializer()
    if callable(initializer) and not isinstance(initializer, Tensor):
        if shape is None or not shape.is_fully_defined():
            raise ValueError(f"Shape of a new variable ({full_name}) must be fully defined, but instead "
                             f"was {shape}.")
        init_shape = shape.as_list()

        def initial_value():
            return initializer(init_shape, dtype=dtype, partition_info=None)
    else:
        if shape is not None and not isinstance(initializer, Tensor):
            initial_value = constant(initializer, dtype=dtype, shape=shape.as_list())
        else:
            initial_value = initializer
    graph = get_default_graph()
    with graph.name_scope(""):
        var = Variable(initial_value=initial_value, trainable=trainable, collections=collections,
                       validate_shape=validate_shape, name=full_name, dtype=dtype, constraint=constraint)
    store.variables[full_name] = var
    regularizer = regularizer if regularizer is not None else scope.regularizer
    if regularizer is not None:
        with graph.name_scope(full_name + "/Regularizer/"):
            loss = regularizer(var)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def _variable_dtype(dtype, initializer, scope):
    """The new variable's dtype: explicit, else that of a value initializer, else the scope's."""
    if initializer is not None and not callable(initializer) or isinstance(initializer, Tensor):
        init_dtype = initializer.dtype.base_dtype if isinstance(initializer, Tensor) else \
            to_numpy(initializer)[1]
        if dtype is None:
            return init_dtype
        if isinstance(initializer, Tensor) and dtypes.as_dtype(dtype).base_dtype != init_dtype:
            raise ValueError(f"Initializer type '{init_dtype.name}' and explicit dtype "
                             f"'{dtypes.as_dtype(dtype).base_dtype.name}' don't match.")
    return dtypes.as_dtype(dtype if dtype is not None else scope.dtype).base_dtype


def get_local_variable(name, shape=None, dtype=None, initializer=None, **kwargs):
    """Like get_variable, but non-trainable and in the LOCAL_VARIABLES collection."""
    kwargs["collections"] = [GraphKeys.LOCAL_VARIABLES]
    kwargs["trainable"] = False
    return get_variable(name, shape=shape, dtype=dtype, initializer=initializer, **kwargs)

