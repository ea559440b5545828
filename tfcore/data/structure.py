"""The structure of a dataset element: nested tuples and dicts of tensors, and their specs.

An element of a dataset is a *structure*: a tensor, or a tuple (namedtuples included) or dict of
structures. Inside the engine an element is *flat*, a list of arrays, one per component, in the
order `flatten` gives (tuples in order, dicts by sorted key, as TF orders them); `pack` puts a flat
list back into the shape of a structure. A list is not a structure but a value (TF converts it to
one tensor), so ``from_tensor_slices([1, 2, 3])`` has one component.

`TensorSpec` describes one component: its static shape and dtype (`Dataset.element_spec`).
"""

from tfcore.framework import dtypes
from tfcore.framework.conversion import convert_to_tensor
from tfcore.framework.graph import Tensor
from tfcore.framework.tensor_shape import TensorShape, as_shape


def is_nested(value):
    """True for a tuple (or namedtuple) or a dict: a structure with components of its own."""
    return isinstance(value, tuple | dict)


def flatten(structure):
    """The leaves of `structure`, in TF's order (dict entries by sorted key)."""
    if isinstance(structure, dict):
        return [leaf for key in _sorted_keys(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack(structure, flat):
    """`flat` (a list with one entry per leaf of `structure`) in the shape of `structure`."""
    flat = list(flat)
    if len(flat) != len(flatten(structure)):
        raise ValueError(f"pack: structure has {len(flatten(structure))} components, got {len(flat)}")
    leaves = iter(flat)
    return _rebuild(structure, leaves)


def _rebuild(structure, leaves):
    if isinstance(structure, dict):
        built = {key: _rebuild(structure[key], leaves) for key in _sorted_keys(structure)}
        return type(structure)((key, built[key]) for key in structure)
    if isinstance(structure, tuple):
        items = [_rebuild(item, leaves) for item in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else type(structure)(items)
    return next(leaves)


def map_structure(fn, structure):
    """`structure` with `fn(leaf)` in place of each leaf."""
    return pack(structure, [fn(leaf) for leaf in flatten(structure)])


def same_structure(a, b):
    """True when `a` and `b` nest tuples and dicts (with the same keys) the same way."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and _sorted_keys(a) == _sorted_keys(b)
                and all(same_structure(a[k], b[k]) for k in a))
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(same_structure(x, y) for x, y in zip(a, b)))
    return True


def _sorted_keys(mapping):
    try:
        return sorted(mapping)
    except TypeError:
        raise TypeError(f"A dataset element's dict keys must be sortable (strings), got {list(mapping)}") \
            from None


class TensorSpec:
    """The static shape and dtype of one component of a dataset element (TF's `tf.TensorSpec`)."""

    __slots__ = ("shape", "dtype", "name")

    def __init__(self, shape, dtype=dtypes.float32, name=None):
        self.shape = as_shape(shape)
        self.dtype = dtypes.as_dtype(dtype).base_dtype
        self.name = name

    @classmethod
    def from_tensor(cls, tensor):
        return cls(tensor.shape, tensor.dtype)

    def is_compatible_with(self, other):
        return self.dtype == other.dtype and self.shape.is_compatible_with(other.shape)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self.dtype == other.dtype
                and str(self.shape) == str(other.shape))

    def __hash__(self):
        return hash((self.dtype, str(self.shape)))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


def specs_of(tensors_structure):
    """The `TensorSpec` structure of a structure of tensors."""
    return map_structure(TensorSpec.from_tensor, tensors_structure)


def to_tensors(value, what, name_of=None):
    """`value`, a structure of tensors and convertible values (lists become one tensor each), as the
    same structure of Tensors. `name_of(i)` names the constant made for component `i`. A leaf that
    cannot become a tensor is a TypeError naming `what` (the function that was given it)."""
    flat = flatten(value)
    tensors = []
    for i, leaf in enumerate(flat):
        if isinstance(leaf, Tensor) or hasattr(leaf, "_as_graph_element"):
            tensors.append(convert_to_tensor(leaf))
            continue
        try:
            tensors.append(convert_to_tensor(leaf, name=name_of(i) if name_of else None))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: component {i} of the element, {leaf!r} "
                            f"({type(leaf).__name__}), cannot be converted to a tensor: {e}") from None
    return pack(value, tensors)


def types_of(specs):
    """The dtype structure of a `TensorSpec` structure (`output_types`)."""
    return map_structure(lambda spec: spec.dtype, specs)


def shapes_of(specs):
    """The TensorShape structure of a `TensorSpec` structure (`output_shapes`)."""
    return map_structure(lambda spec: spec.shape, specs)


def specs_from(types, shapes=None):
    """A `TensorSpec` structure from an `output_types` structure and, optionally, `output_shapes`
    (missing shapes are unknown), as `Iterator.from_structure` takes them."""
    if shapes is None:
        return map_structure(lambda dtype: TensorSpec(TensorShape(None), dtype), types)
    if not same_structure(types, shapes) and is_nested(types):
        raise TypeError(f"output_types {types} and output_shapes {shapes} have different structures")
    flat_shapes = flatten(shapes) if is_nested(types) else [shapes]
    return pack(types, [TensorSpec(shape, dtype) for dtype, shape in zip(flatten(types), flat_shapes)])
