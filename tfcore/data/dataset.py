"""`tf.data.Dataset` as TF1 graph code uses it: sources, transformations and iterators.

A `Dataset` is a scalar tensor of dtype variant, made by one of the ops of dataset_ops.py, together
with the structure of its elements (`element_spec`: the static shape and dtype of each component).
Each method builds one op in the default graph and works out the new element structure, checking
its arguments at build time where they are known (ValueError naming the method); arguments that
are tensors (a fed placeholder `batch_size`) are checked again by the kernel when the iterator's
initializer runs, as in TF.
"""

from tfcore.data import structure
from tfcore.data.dataset_ops import variant  # noqa: F401 - registers the dataset ops
from tfcore.data.function import TracedFunction
from tfcore.data.iterator import Iterator
from tfcore.framework import dtypes
from tfcore.framework.constant_folding import constant_value
from tfcore.framework.conversion import convert_to_tensor
from tfcore.framework.graph import Tensor, apply_op, get_default_graph
from tfcore.framework.tensor_shape import TensorShape
from tfcore.ops.random_ops import get_seed


def _int64_argument(value, name, what):
    """`value` as a scalar int64 tensor named `name` (TF's names: "batch_size", "count", ...), and
    its value when it is known at build time (else None)."""
    tensor = convert_to_tensor(value, dtype=dtypes.int64, name=name)
    if not tensor.shape.is_compatible_with(TensorShape([])):
        raise ValueError(f"{what}: `{name}` must be a scalar, got shape {tensor.shape}")
    known = constant_value(tensor)
    return tensor, None if known is None else int(known)


class Dataset:
    """A sequence of elements, each a structure (tensor, tuple or dict) of components.

    Build it from tensors (`from_tensor_slices`, `from_tensors`, `range`, `zip`), transform it
    (`map`, `filter`, `batch`, `shuffle`, `repeat`, `take`, `skip`, `prefetch`, `concatenate`), and
    read it through an iterator (`make_one_shot_iterator`, `make_initializable_iterator`).
    """

    def __init__(self, variant_tensor, element_spec):
        self._variant_tensor = variant_tensor
        self._element_spec = element_spec

    @staticmethod
    def _made(op_type, inputs, element_spec, attrs=None):
        return Dataset(apply_op(op_type, inputs, attrs or {}), element_spec)

    # --- sources --------------------------------------------------------------------------------
    @staticmethod
    def _components(tensors, what):
        with get_default_graph().name_scope("normalize_element"):
            tensors = structure.to_tensors(tensors, what, name_of=lambda i: f"component_{i}")
        if not structure.flatten(tensors):
            raise ValueError(f"{what}: the element has no components")
        return tensors

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per row: the i-th element holds row i of every component (all components
        must have the same first dimension)."""
        what = "Dataset.from_tensor_slices()"
        tensors = Dataset._components(tensors, what)
        flat = structure.flatten(tensors)
        rows = TensorShape([None])
        for t in flat:
            if t.shape.ndims == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            if t.shape.ndims is not None:
                if not rows.is_compatible_with(t.shape[:1]):
                    raise ValueError(f"Dimensions {rows[0].value} and {t.shape[0].value} are not compatible")
                rows = rows.merge_with(t.shape[:1])
        specs = structure.map_structure(lambda t: structure.TensorSpec(t.shape[1:], t.dtype), tensors)
        return Dataset._made("TensorSliceDataset", flat, specs)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: the tensors themselves."""
        tensors = Dataset._components(tensors, "Dataset.from_tensors()")
        return Dataset._made("TensorDataset", structure.flatten(tensors), structure.specs_of(tensors))

    @staticmethod
    def range(*args, output_type=dtypes.int64, name=None):
        """The integers of Python's ``range(*args)`` (stop; start, stop; start, stop, step), int64."""
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Dataset.range(): expected 1 to 3 arguments (start, stop, step), "
                             f"got {len(args)}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
        inputs = [_int64_argument(v, n, "Dataset.range()") for v, n in
                  ((start, "start"), (stop, "stop"), (step, "step"))]
        if inputs[2][1] == 0:
            raise ValueError("Dataset.range(): step must be a non-zero integer.")
        output_type = dtypes.as_dtype(output_type).base_dtype
        return Dataset._made("RangeDataset", [t for t, _ in inputs],
                             structure.TensorSpec([], output_type), {"output_type": output_type})

    @staticmethod
    def zip(datasets, name=None):
        """Elements side by side: `datasets` is a tuple (or dict, nested) of datasets, and so is each
        element; it ends with the shortest dataset."""
        flat = structure.flatten(datasets)
        if not flat or not all(isinstance(d, Dataset) for d in flat):
            raise TypeError(f"Dataset.zip(): expected a tuple or dict of datasets, got {datasets!r}")
        specs = structure.pack(datasets, [d.element_spec for d in flat])
        return Dataset._made("ZipDataset", [d._variant_tensor for d in flat], specs)

    # --- transformations ------------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """`map_func` applied to every element. It is called once, now, on placeholders with the
        element's shapes and dtypes (a tuple element spread over its parameters) and the ops it
        builds run for each element (function.py); it returns a tensor, or a tuple or dict of them."""
        function = TracedFunction(map_func, self._element_spec, "Dataset.map()", self._variant_tensor.graph)
        return Dataset._made("MapDataset", [self._variant_tensor], function.output_specs,
                             {"f": function.name})

    def filter(self, predicate, name=None):
        """The elements for which `predicate` (traced like a `map` function) gives a scalar True."""
        function = TracedFunction(predicate, self._element_spec, "Dataset.filter()",
                                  self._variant_tensor.graph)
        spec = function.output_specs
        if not (isinstance(spec, structure.TensorSpec) and spec.dtype == dtypes.bool
                and spec.shape.is_compatible_with(TensorShape([]))):
            raise ValueError("Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, "
                             f"but its return type is {spec}.")
        return Dataset._made("FilterDataset", [self._variant_tensor], self._element_spec,
                             {"predicate": function.name})

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None,
              name=None):
        """`batch_size` consecutive elements stacked into one (a new first dimension). The last batch
        may be smaller, so its static size is None, unless `drop_remainder` drops it."""
        size_tensor, size = _int64_argument(batch_size, "batch_size", "Dataset.batch()")
        if size is not None and size <= 0:
            raise ValueError(f"Dataset.batch(): batch_size must be greater than zero, got {size}")
        drop = _static_bool(drop_remainder, "Dataset.batch(): drop_remainder")
        first = TensorShape([size if drop else None])
        specs = structure.map_structure(
            lambda s: structure.TensorSpec(first.concatenate(s.shape), s.dtype), self._element_spec)
        return Dataset._made("BatchDatasetV2", [self._variant_tensor, size_tensor], specs,
                             {"drop_remainder": drop})

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """The elements in a random order, drawn from a buffer of `buffer_size` (see `_Shuffled` in
        dataset_ops.py). NOTE: tfcore's random order differs from TensorFlow's (another generator);
        the buffer semantics and the seed rules are TF's: with a seed (or a graph seed) the order is
        the same each time the program runs and each time the iterator is initialized, and with
        `reshuffle_each_iteration` (the default) every epoch of a later `repeat` gets a new order."""
        size_tensor, size = _int64_argument(buffer_size, "buffer_size", "Dataset.shuffle()")
        if size is not None and size <= 0:
            raise ValueError(f"Dataset.shuffle(): buffer_size must be greater than zero, got {size}")
        seed, seed2 = get_seed(seed)
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        return Dataset._made("ShuffleDataset", [self._variant_tensor, size_tensor], self._element_spec,
                             {"seed": seed or 0, "seed2": seed2 or 0, "reshuffle_each_iteration": reshuffle})

    def repeat(self, count=None, name=None):
        """The dataset `count` times over (None or -1: forever); each pass starts the input again."""
        count_tensor, _ = _int64_argument(-1 if count is None else count, "count", "Dataset.repeat()")
        return Dataset._made("RepeatDataset", [self._variant_tensor, count_tensor], self._element_spec)

    def take(self, count, name=None):
        """The first `count` elements (-1: all)."""
        count_tensor, _ = _int64_argument(count, "count", "Dataset.take()")
        return Dataset._made("TakeDataset", [self._variant_tensor, count_tensor], self._element_spec)

    def skip(self, count, name=None):
        """All but the first `count` elements (-1: none)."""
        count_tensor, _ = _int64_argument(count, "count", "Dataset.skip()")
        return Dataset._made("SkipDataset", [self._variant_tensor, count_tensor], self._element_spec)

    def prefetch(self, buffer_size, name=None):
        """Accepted: TF prepares elements ahead on other threads; tfcore produces them on demand."""
        size_tensor, _ = _int64_argument(buffer_size, "buffer_size", "Dataset.prefetch()")
        return Dataset._made("PrefetchDataset", [self._variant_tensor, size_tensor], self._element_spec)

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then those of `dataset` (same structure and dtypes)."""
        ours, theirs = self._element_spec, dataset.element_spec
        if not structure.same_structure(ours, theirs) or (
                structure.flatten(structure.types_of(ours)) != structure.flatten(structure.types_of(theirs))):
            raise TypeError(f"Dataset.concatenate(): incompatible element types {self.output_types} and "
                            f"{dataset.output_types}")
        specs = structure.pack(ours, [structure.TensorSpec(_common_shape(a.shape, b.shape), a.dtype) for a, b
                                      in zip(structure.flatten(ours), structure.flatten(theirs))])
        return Dataset._made("ConcatenateDataset", [self._variant_tensor, dataset._variant_tensor], specs)

    def apply(self, transformation_func):
        """`transformation_func(self)`, which must return a Dataset."""
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError("Dataset.apply(): the transformation must return a Dataset, got "
                            f"{type(result).__name__}")
        return result

    # --- iterators ------------------------------------------------------------------------------
    def make_one_shot_iterator(self):
        """An iterator that starts itself on its first `get_next` run (no initializer, no feeds)."""
        return Iterator._for_dataset(self, one_shot=True)

    def make_initializable_iterator(self, shared_name=None):
        """An iterator whose `initializer` (re)starts it, with the feeds given to that run."""
        return Iterator._for_dataset(self, one_shot=False, shared_name=shared_name)

    def __iter__(self):
        raise RuntimeError("`tf.data.Dataset` only supports Python-style iteration in eager mode: in a "
                           "TF1 graph, iterate through make_one_shot_iterator() or "
                           "make_initializable_iterator().")

    # --- what the elements are ------------------------------------------------------------------
    element_spec = property(lambda self: self._element_spec, doc="The TensorSpec structure of an element.")
    output_types = property(lambda self: structure.types_of(self._element_spec))
    output_shapes = property(lambda self: structure.shapes_of(self._element_spec))
    output_classes = property(lambda self: structure.map_structure(lambda _: Tensor, self._element_spec))

    def __repr__(self):
        return f"<{self._variant_tensor.op.type} element_spec={self._element_spec}>"


def _static_bool(value, what):
    """`value` (a Python bool or a constant bool tensor) as a Python bool."""
    if isinstance(value, Tensor):
        known = constant_value(value)
        if known is None:
            raise ValueError(f"{what} must be known when the graph is built (a Python bool or a constant)")
        return bool(known)
    return bool(value)


def _common_shape(a, b):
    """The most specific shape both `a` and `b` have: dimensions that differ become None."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])
