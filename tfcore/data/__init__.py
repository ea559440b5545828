"""`tf.data`: input pipelines for TF1 graph code (`Dataset`, `Iterator`).

How it works, in four pieces:

  * dataset.py: a `Dataset` is a scalar tensor of dtype variant plus the structure of its elements
    (structure.py: tuples and dicts of components, each with a static shape and dtype). Each source
    and transformation (`from_tensor_slices`, `map`, `batch`, `shuffle`, `repeat`, ...) builds one
    op in the graph, as TF does; arguments such as `batch_size` are int64 inputs of that op.
  * dataset_ops.py: the op blocks. A dataset op's kernel computes no elements: it returns a
    *stream*, an object whose `elements()` generates them on demand (a batch stacks the next
    `batch_size` elements of its input stream, a shuffle draws from a buffer, a repeat starts its
    input again for each epoch).
  * function.py: the function given to `map` or `filter` is traced once, at build time, into a
    graph of its own with placeholders for the element's components; each element is then one run
    of that graph through a `Plan`, the engine that runs sessions, not a call of the Python function.
  * iterator.py: an iterator is a resource each Session holds the way it holds a variable's value
    (the `IteratorV2` op has the `variable` fact; the ops using it take it by reference), so every
    session has its own position, and closing a session drops it. `MakeIterator` (the initializer)
    starts a position over the dataset's stream, with whatever the session fed for placeholders;
    each run of `IteratorGetNext` advances it once and raises `OutOfRangeError` at the end.

What differs from TensorFlow: `shuffle`'s random order (another generator; the buffer semantics and
seed rules are TF's), `prefetch` does nothing, and functions given to `map`/`filter` cannot use
tensors of the program's graph (an error says so). Everything runs on the host.
"""

from tfcore.data import experimental
from tfcore.data.dataset import Dataset
from tfcore.data.experimental import AUTOTUNE
from tfcore.data.iterator import (
    Iterator,
    get_output_classes,
    get_output_shapes,
    get_output_types,
    make_initializable_iterator,
    make_one_shot_iterator,
)
from tfcore.data.structure import TensorSpec

__all__ = ["AUTOTUNE", "Dataset", "Iterator", "TensorSpec", "experimental", "get_output_classes",
           "get_output_shapes", "get_output_types", "make_initializable_iterator", "make_one_shot_iterator"]
