"""The dataset ops: each makes a *dataset value*, a scalar tensor of dtype `variant`, from its inputs.

As in TensorFlow, a `Dataset` is a tensor in the graph: `TensorSliceDataset(components)`,
`BatchDatasetV2(dataset, batch_size)`, ... Their kernels compute no elements. Each returns a small
Python object, a *stream*, that says how to produce them: ``stream.elements()`` gives a fresh
generator of flat elements (lists of NumPy arrays, one per component) every time it is called, so
that `repeat` can start its input again. The elements are produced only when an iterator asks for
the next one (iterator.py), one at a time. Arguments such as `batch_size` or `count` are ordinary
int64 inputs, so a fed placeholder may give them when the iterator's initializer runs.

Every op block here has its shape function (a scalar variant), its kernel and its stream side by
side. They run on the host (`host_only`) and are not differentiable. These ops live in the `data`
package, above the client, because `MapDataset` and `FilterDataset` run a traced function's graph
through a `Plan` (function.py).
"""

import itertools

import numpy as np

from tfcore.data.function import function_named
from tfcore.framework import errors
from tfcore.framework.dtypes import DType
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape

# TF's dtype for a dataset tensor; its value is a 0-d object array holding the stream.
variant = DType("variant", None)


def dataset_value(stream):
    """The value of a dataset tensor: a 0-d object array holding `stream`."""
    value = np.empty((), dtype=object)
    value[()] = stream
    return value


def stream_of(value):
    """The stream a dataset tensor's value holds."""
    return value[()]


def _dataset_shape(inputs, **attrs):
    return [(TensorShape([]), variant)]


def _register(op_type, kernel):
    register_op(op_type, shape=_dataset_shape, kernel=kernel, host_only=True)
    NotDifferentiable(op_type)


def _read_only(array):
    """A view of `array` that no kernel may write into (elements are views of it)."""
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


# ================================================================================================
# Sources: TensorSliceDataset (rows of tensors), TensorDataset (the tensors once), RangeDataset
# ================================================================================================


class _Slices:
    def __init__(self, components):
        self.components = [_read_only(c) for c in components]

    def elements(self):
        # NOTE: `c[i, ...]` is a 0-d array (not a NumPy scalar) for a vector, and keeps string dtypes.
        for i in range(self.components[0].shape[0]):
            yield [c[i, ...] for c in self.components]


def _slices_kernel(ctx, *components):
    sizes = [c.shape[0] for c in components]
    if len(set(sizes)) > 1:
        raise errors.InvalidArgumentError(
            None, ctx.op, f"All components must have the same size in the 0th dimension, got {sizes}")
    return dataset_value(_Slices(components))


_register("TensorSliceDataset", _slices_kernel)


class _Tensors:
    def __init__(self, components):
        self.components = [_read_only(c) for c in components]

    def elements(self):
        yield list(self.components)


_register("TensorDataset", lambda ctx, *components: dataset_value(_Tensors(components)))


class _Range:
    def __init__(self, start, stop, step, dtype):
        self.start, self.stop, self.step, self.dtype = start, stop, step, dtype

    def elements(self):
        for v in range(self.start, self.stop, self.step):
            yield [np.asarray(v, dtype=self.dtype)]


def _range_kernel(ctx, start, stop, step, output_type):
    if int(step) == 0:
        raise errors.InvalidArgumentError(None, ctx.op, "step must be a non-zero integer.")
    return dataset_value(_Range(int(start), int(stop), int(step), output_type.as_numpy_dtype))


_register("RangeDataset", _range_kernel)


# ================================================================================================
# Combining datasets: ZipDataset (components side by side), ConcatenateDataset (one after the other)
# ================================================================================================


class _Zipped:
    def __init__(self, inputs):
        self.inputs = inputs

    def elements(self):
        for parts in zip(*(s.elements() for s in self.inputs)):  # ends with the shortest input
            yield [array for part in parts for array in part]


_register("ZipDataset", lambda ctx, *datasets: dataset_value(_Zipped([stream_of(d) for d in datasets])))


class _Concatenated:
    def __init__(self, first, second):
        self.first, self.second = first, second

    def elements(self):
        yield from self.first.elements()
        yield from self.second.elements()


_register("ConcatenateDataset", lambda ctx, a, b: dataset_value(_Concatenated(stream_of(a), stream_of(b))))


# ================================================================================================
# MapDataset and FilterDataset: a traced function run on each element (function.py)
# ================================================================================================


class _Mapped:
    def __init__(self, input, function):
        self.input, self.function, self._run = input, function, None

    def elements(self):
        if self._run is None:  # compiled once per dataset value, i.e. per iterator initialization
            self._run = self.function.instantiate()
        for element in self.input.elements():
            yield self._run(element)


def _map_kernel(ctx, dataset, f):
    return dataset_value(_Mapped(stream_of(dataset), function_named(ctx.op.graph, f)))


_register("MapDataset", _map_kernel)


class _Filtered(_Mapped):
    def elements(self):
        if self._run is None:
            self._run = self.function.instantiate()
        for element in self.input.elements():
            if bool(self._run(element)[0]):
                yield element


def _filter_kernel(ctx, dataset, predicate):
    return dataset_value(_Filtered(stream_of(dataset), function_named(ctx.op.graph, predicate)))


_register("FilterDataset", _filter_kernel)


# ================================================================================================
# BatchDatasetV2: `batch_size` consecutive elements stacked along a new first dimension
# ================================================================================================


class _Batched:
    def __init__(self, input, size, drop_remainder):
        self.input, self.size, self.drop_remainder = input, size, drop_remainder

    def elements(self):
        batch = []
        for element in self.input.elements():
            batch.append(element)
            if len(batch) == self.size:
                yield _stack(batch)
                batch = []
        if batch and not self.drop_remainder:  # the last, smaller batch
            yield _stack(batch)


def _stack(elements):
    """One element from several: each component's arrays stacked (they must have one shape)."""
    stacked = []
    for i, column in enumerate(zip(*elements)):
        for j, array in enumerate(column):
            if array.shape != column[0].shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Cannot batch tensors with different shapes in component {i}. First "
                    f"element had shape {list(column[0].shape)} and element {j} had shape "
                    f"{list(array.shape)}.")
        stacked.append(np.stack(column))
    return stacked


def _batch_kernel(ctx, dataset, batch_size, drop_remainder):
    if int(batch_size) <= 0:
        raise errors.InvalidArgumentError(None, ctx.op, "Batch size must be greater than zero.")
    return dataset_value(_Batched(stream_of(dataset), int(batch_size), drop_remainder))


_register("BatchDatasetV2", _batch_kernel)


# ================================================================================================
# ShuffleDataset: elements drawn at random from a buffer of the next `buffer_size` ones
# ================================================================================================


class _Shuffled:
    """TF's buffer semantics: the buffer holds the next `size` elements; each output is one of them
    chosen uniformly, and the next input element takes its place. A buffer of 1 keeps the order; a
    buffer as large as the dataset gives a uniform permutation. NOTE: the numbers come from NumPy's
    generator, so the order differs from TensorFlow's; the seed rules are TF's (a seed gives the same
    order each time the iterator is initialized; `reshuffle` gives each epoch of a `repeat` a new one)."""

    def __init__(self, input, size, seed, seed2, reshuffle):
        self.input, self.size, self.reshuffle = input, size, reshuffle
        # (0, 0): no seed, a different order on every initialization
        self.entropy = np.random.SeedSequence().entropy if seed == 0 and seed2 == 0 else [seed, seed2]
        self._rng = None

    def elements(self):
        if self._rng is None or not self.reshuffle:
            self._rng = np.random.default_rng(self.entropy)
        rng, buffer = self._rng, []
        for element in self.input.elements():
            buffer.append(element)
            if len(buffer) == self.size:
                yield _take_one(buffer, rng)
        while buffer:
            yield _take_one(buffer, rng)


def _take_one(buffer, rng):
    i = int(rng.integers(len(buffer)))
    buffer[i], buffer[-1] = buffer[-1], buffer[i]
    return buffer.pop()


def _shuffle_kernel(ctx, dataset, buffer_size, seed, seed2, reshuffle_each_iteration):
    if int(buffer_size) <= 0:
        raise errors.InvalidArgumentError(None, ctx.op, "buffer_size must be greater than zero.")
    return dataset_value(_Shuffled(stream_of(dataset), int(buffer_size), seed, seed2,
                                   reshuffle_each_iteration))


_register("ShuffleDataset", _shuffle_kernel)


# ================================================================================================
# RepeatDataset, TakeDataset, SkipDataset (count -1: forever / all), PrefetchDataset (passes through)
# ================================================================================================


class _Repeated:
    def __init__(self, input, count):
        self.input, self.count = input, count

    def elements(self):
        for _ in itertools.count() if self.count < 0 else range(self.count):
            produced = False
            for element in self.input.elements():  # a fresh pass over the input: one epoch
                produced = True
                yield element
            if not produced:  # an empty input repeated forever is empty, not an endless loop
                return


_register("RepeatDataset", lambda ctx, dataset, count: dataset_value(_Repeated(stream_of(dataset),
                                                                               int(count))))


class _Sliced:
    """The elements from `start` to `stop` (None: to the end) of the input, as `take` and `skip` cut."""

    def __init__(self, input, start, stop):
        self.input, self.start, self.stop = input, start, stop

    def elements(self):
        if self.start is None:  # skip(-1): every element is skipped
            for _ in self.input.elements():
                pass
            return
        yield from itertools.islice(self.input.elements(), self.start, self.stop)


def _take_kernel(ctx, dataset, count):
    count = int(count)
    return dataset_value(_Sliced(stream_of(dataset), 0, None if count < 0 else count))


def _skip_kernel(ctx, dataset, count):
    count = int(count)
    return dataset_value(_Sliced(stream_of(dataset), None if count < 0 else count, None))


_register("TakeDataset", _take_kernel)
_register("SkipDataset", _skip_kernel)
# Prefetching overlaps producing elements with the training step in TF; here it changes nothing.
_register("PrefetchDataset", lambda ctx, dataset, buffer_size: dataset_value(stream_of(dataset)))
