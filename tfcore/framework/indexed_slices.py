"""`tf.IndexedSlices`: a sparse gradient, and `tf.IndexedSlicesValue`, what fetching one gives.

The gradient of a gather (`tf.gather`, `tf.nn.embedding_lookup`) with respect to its params touches
only the rows it picked. TF keeps it sparse: `values` [k, ...] are the gradients of rows `indices`
[k] of a dense tensor of shape `dense_shape`; a row picked twice appears twice (its parts add up).
Optimizers apply such a gradient as a sparse update of those rows; any op that takes it as an input
gets the dense tensor (`convert_to_tensor`, registered by tfcore/ops/gather_ops.py, which owns the
op that densifies: the values summed into their rows).
"""

from collections import namedtuple

from tfcore.framework.tensor import Tensor

__all__ = ["IndexedSlices", "IndexedSlicesValue"]


class IndexedSlices:
    """Rows `indices` of a dense tensor of shape `dense_shape` hold `values` (all three tensors;
    `dense_shape` may be None when it is not known)."""

    def __init__(self, values, indices, dense_shape=None):
        for what, tensor in (("values", values), ("indices", indices), ("dense_shape", dense_shape)):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"IndexedSlices: {what} must be a Tensor, got {type(tensor).__name__}")
        self._values, self._indices, self._dense_shape = values, indices, dense_shape

    @property
    def values(self):
        """The gradients of the rows, [k, ...]."""
        return self._values

    @property
    def indices(self):
        """Which row of the dense tensor each of `values` belongs to, [k]."""
        return self._indices

    @property
    def dense_shape(self):
        """The shape of the dense tensor (a 1-D integer tensor), or None."""
        return self._dense_shape

    @property
    def name(self):
        return self._values.name

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def op(self):
        return self._values.op

    @property
    def graph(self):
        return self._values.graph

    @property
    def device(self):
        return self._values.device

    def __repr__(self):
        shape = "" if self._dense_shape is None else f", dense_shape={self._dense_shape}"
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"


class IndexedSlicesValue(namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])):
    """A fetched IndexedSlices: NumPy `values`, `indices` and `dense_shape`."""

    __slots__ = ()

    def __str__(self):
        return (f"IndexedSlicesValue(values={self.values}, indices={self.indices}, "
                f"dense_shape={self.dense_shape})")
