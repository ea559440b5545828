"""Iterators: where a session stands in a dataset, and the ops that move it.

An iterator is a *resource* of each session, held the way a variable is: the `IteratorV2` op is
registered with the `variable` fact, so every `Session` keeps the iterator's position under the
op's name in its own state (tfcore/client/session_state.py), a new session starts without one,
and `Session.close` drops it. The ops that use it take it by reference (`ref_inputs`), as Assign
takes a variable, and receive a `VariableRef` with `initialized`, `read()` and `write()`:

  * `MakeIterator(dataset, iterator)`, the initializer: the session computes the dataset tensor
    (feeding any placeholders in it) and the kernel stores a new `_Position` over its stream, so
    running the initializer again starts again, from fresh feeds;
  * `IteratorGetNext(iterator)` returns the next element's components, one output each: one run
    advances the iterator once however many of the outputs are fetched; at the end it raises
    `OutOfRangeError`, as TF does, and before initialization `FailedPreconditionError`;
  * a one-shot iterator's `IteratorGetNext` also takes the dataset tensor and starts itself in its
    first run (later runs compute the dataset tensor, a few small objects, and ignore it).
"""

from tfcore.data import structure
from tfcore.data.dataset_ops import stream_of
from tfcore.framework import errors
from tfcore.framework.dtypes import DType, as_dtype
from tfcore.framework.graph import Tensor, apply_op
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape

# TF's dtype for a handle to a resource a session holds (here: an iterator).
resource = DType("resource", None)


# ================================================================================================
# IteratorV2: the iterator resource (a session holds its position like a variable's value)
# ================================================================================================

register_op("IteratorV2", shape=lambda inputs, **attrs: [(TensorShape([]), resource)], kernel=None,
            variable=True)
NotDifferentiable("IteratorV2")


def _iterator_op(specs, name, shared_name=None):
    attrs = {"output_types": [s.dtype for s in structure.flatten(specs)],
             "output_shapes": [s.shape for s in structure.flatten(specs)],
             "shared_name": shared_name or "", "container": ""}
    return apply_op("IteratorV2", [], attrs, name=name)


# ================================================================================================
# MakeIterator: (re)start an iterator on a dataset
# ================================================================================================


class _Position:
    """Where one iterator stands in one session: the generator of its dataset's elements."""

    def __init__(self, stream):
        self._elements = stream.elements()
        self._ended = False

    def next(self, op):
        """The next flat element; OutOfRangeError (every time, once reached) at the end."""
        if not self._ended:
            try:
                return next(self._elements)
            except StopIteration:
                self._ended = True
        raise errors.OutOfRangeError(None, op, f"End of sequence\n\t [[{{{{node {op.name}}}}}]]")


def _make_iterator_kernel(ctx, dataset, iterator):
    iterator.write(_Position(stream_of(dataset)))


register_op("MakeIterator", shape=lambda inputs: [], kernel=_make_iterator_kernel, ref_inputs=(1,),
            host_only=True)
NotDifferentiable("MakeIterator")


# ================================================================================================
# IteratorGetNext: the next element, one output per component
# ================================================================================================


def _get_next_shape(inputs, output_types, output_shapes):
    return list(zip(output_shapes, output_types))


def _get_next_kernel(ctx, iterator, *one_shot_dataset, output_types, output_shapes):
    if not iterator.initialized:
        if not one_shot_dataset:
            raise errors.FailedPreconditionError(
                None, ctx.op, "GetNext() failed because the iterator has not been initialized. Ensure that "
                "you have run the initializer operation for this iterator before getting the next element.")
        iterator.write(_Position(stream_of(one_shot_dataset[0])))
    element = iterator.read().next(ctx.op)
    return element[0] if len(element) == 1 else tuple(element)


register_op("IteratorGetNext", shape=_get_next_shape, kernel=_get_next_kernel, ref_inputs=(0,),
            host_only=True)
NotDifferentiable("IteratorGetNext")


# ================================================================================================
# The Python side: tf.data.Iterator
# ================================================================================================


class Iterator:
    """A TF1 `tf.data.Iterator`: a handle to an iterator resource and the structure of its elements.

    Make one with `Dataset.make_initializable_iterator()` (run its `initializer`, again to restart),
    `Dataset.make_one_shot_iterator()` (starts itself), or `Iterator.from_structure(types, shapes)`
    with `make_initializer(dataset)` for each dataset it should run over.
    """

    def __init__(self, handle, initializer, element_spec, one_shot_dataset=None):
        self._iterator_resource = handle
        self._initializer = initializer
        self._element_spec = element_spec
        self._one_shot_dataset = one_shot_dataset

    @staticmethod
    def from_structure(output_types, output_shapes=None, shared_name=None, output_classes=None):
        """An iterator with no dataset yet, for elements of these types (and shapes, when given)."""
        specs = structure.specs_from(structure.map_structure(_as_dtype, output_types), output_shapes)
        return Iterator(_iterator_op(specs, "IteratorV2", shared_name), None, specs)

    @staticmethod
    def _for_dataset(dataset, one_shot, shared_name=None):
        specs = dataset.element_spec
        if one_shot:
            _check_one_shot(dataset)
            return Iterator(_iterator_op(specs, "OneShotIterator"), None, specs, one_shot_dataset=dataset)
        handle = _iterator_op(specs, "IteratorV2", shared_name)
        iterator = Iterator(handle, None, specs)
        iterator._initializer = iterator.make_initializer(dataset)
        return iterator

    @property
    def initializer(self):
        """The op that (re)starts this iterator on its dataset."""
        if self._initializer is None:
            raise ValueError("Iterator does not have an initializer.")
        return self._initializer

    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator on `dataset`, whose elements must have the iterator's
        structure and types, and shapes compatible with its shapes (TypeError otherwise, as in TF)."""
        theirs, ours = dataset.element_spec, self._element_spec
        if not structure.same_structure(theirs, ours):
            raise TypeError(f"The two structures don't have the same sequence type. Input structure has "
                            f"{structure.types_of(theirs)}, while the iterator expects "
                            f"{structure.types_of(ours)}.")
        if structure.flatten(structure.types_of(theirs)) != structure.flatten(structure.types_of(ours)):
            raise TypeError(f"Expected output types {structure.types_of(ours)} but got dataset with "
                            f"output types {structure.types_of(theirs)}.")
        if not all(a.shape.is_compatible_with(b.shape)
                   for a, b in zip(structure.flatten(theirs), structure.flatten(ours))):
            raise TypeError(f"Expected output shapes compatible with {structure.shapes_of(ours)} but got "
                            f"dataset with output shapes {structure.shapes_of(theirs)}.")
        return apply_op("MakeIterator", [dataset._variant_tensor, self._iterator_resource],
                        name=name or "MakeIterator")

    def get_next(self, name=None):
        """The next element, as tensors in the element's structure: each `sess.run` of them advances
        the iterator once; the end raises `tf.errors.OutOfRangeError`."""
        specs = structure.flatten(self._element_spec)
        inputs = [self._iterator_resource]
        if self._one_shot_dataset is not None:
            inputs.append(self._one_shot_dataset._variant_tensor)
        outputs = apply_op("IteratorGetNext", inputs, {"output_types": [s.dtype for s in specs],
                                                      "output_shapes": [s.shape for s in specs]},
                           name=name or "IteratorGetNext")
        return structure.pack(self._element_spec, [outputs] if isinstance(outputs, Tensor) else outputs)

    def string_handle(self, name=None):
        """Not in tfcore: feedable iterators (`Iterator.from_string_handle`) are not supported."""
        raise NotImplementedError("tfcore's iterators have no string handles: use one initializable "
                                  "iterator (`Iterator.from_structure`) with an initializer per dataset.")

    element_spec = property(lambda self: self._element_spec)
    output_types = property(lambda self: structure.types_of(self._element_spec))
    output_shapes = property(lambda self: structure.shapes_of(self._element_spec))
    output_classes = property(lambda self: structure.map_structure(lambda _: Tensor, self._element_spec))

    def __repr__(self):
        return f"<Iterator of {self._element_spec}>"


def _as_dtype(value):
    return as_dtype(value).base_dtype


def _check_one_shot(dataset):
    """A one-shot iterator starts itself, so nothing in its dataset may need a feed (as in TF)."""
    seen, stack = set(), [dataset._variant_tensor.op]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type == "Placeholder":
            raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) by value: a "
                             "one-shot iterator cannot be fed; use make_initializable_iterator().")
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)


def make_one_shot_iterator(dataset):
    """`tf.compat.v1.data.make_one_shot_iterator(dataset)`: an iterator that starts itself."""
    return Iterator._for_dataset(dataset, one_shot=True)


def make_initializable_iterator(dataset, shared_name=None):
    """`tf.compat.v1.data.make_initializable_iterator(dataset)`: run its `initializer` first."""
    return Iterator._for_dataset(dataset, one_shot=False, shared_name=shared_name)


def get_output_types(dataset_or_iterator):
    """The dtype structure of the elements."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """The static shape structure of the elements."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """The class structure of the elements (every component is a `tf.Tensor`)."""
    return dataset_or_iterator.output_classes
