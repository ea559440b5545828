"""Reverse-mode automatic differentiation: `tf.gradients(ys, xs)` adds gradient ops to the graph.

Walk the ops between `xs` and `ys`; starting from `grad_ys` (ones by default), visit each op once
all of its consumers have sent their gradients back, sum what it received per output, and call its
registered gradient function (`_<Op>Grad(op, *output_grads)`, built from ordinary tfcore ops) to
get the gradients of its inputs. The result is itself a graph: the same Session runs it.

A gradient may be a `tf.IndexedSlices` (a gather's, for its params): it flows on as it is, and an
op that takes it as an input densifies it. Contributions that are all IndexedSlices sum by
concatenating their rows; a mix sums densely.
"""


from tfcore.framework import dtypes
from tfcore.framework.graph import Tensor, convert_to_tensor, get_default_graph
from tfcore.framework.indexed_slices import IndexedSlices
from tfcore.framework.registry import get_gradient_function
from tfcore.ops.array_ops import ones_like, zeros_like
from tfcore.ops.join_ops import concat, stack, unstack
from tfcore.ops.math_ops import add_n, cast
from tfcore.ops.reduction_ops import reduce_sum
from tfcore.ops.variables import Variable, ref_tensor

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "gradients",
    "hessians",
]


def _as_list(x):
    return list(x) if isinstance(x, list | tuple) else [x]


def _to_tensor(x):
    """A Variable's reference tensor (what its readers consume), else `x` as a tensor."""
    return ref_tensor(x) if isinstance(x, Variable) else convert_to_tensor(x)


def _differentiable(t):
    return t.dtype.base_dtype.is_floating


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """Symbolic d(sum(ys))/d(x) for each x in `xs`; None where an x does not affect ys.

    `grad_ys` weights each y (default ones); `stop_gradients` are treated as constants.
    """

    ys = [_to_tensor(y) for y in _as_list(ys)]
    xs = [_to_tensor(x) for x in _as_list(xs)]
    stops = {_to_tensor(s).op for s in _as_list(stop_gradients)} if stop_gradients is not None else set()
    if grad_ys is None:
        grad_ys = [None] * len(ys)
    grad_ys = _as_list(grad_ys)
    graph = get_default_graph()

    between = _between(xs, ys, stops)
    with graph.name_scope(name):
        grads = {}  # tensor -> its gradient contributions
        for y, gy in zip(ys, grad_ys):
            grads.setdefault(y, []).append(_initial_gradient(y, gy, ys))
        _backpropagate(graph, between, stops, grads)
        return [_total(grads, x) for x in xs]


def _between(xs, ys, stops):
    """The ops on a path from an x forward to a y (the walk back stops at `stops`)."""
    reached = set()
    stack = [x.op for x in xs]
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        for t in op.outputs:
            stack.extend(t.consumers())
    between = set()
    stack = [y.op for y in ys]
    while stack:
        op = stack.pop()
        if op in between or op not in reached:
            continue
        between.add(op)
        if op not in stops:
            stack.extend(t.op for t in op.inputs)
    return between


def _initial_gradient(y, gy, ys):
    """The gradient fed into `y`: `gy` as a tensor of y's dtype, or ones."""
    if gy is not None:
        return convert_to_tensor(gy, dtype=y.dtype.base_dtype)
    if not _differentiable(y):
        raise TypeError(f"Gradients of non-float tensor {y.name} ({y.dtype.name}) are undefined.")
    return ones_like(y, name=f"grad_ys_{ys.index(y)}" if len(ys) > 1 else "Fill")


def _backpropagate(graph, between, stops, grads):
    """Visit the ops of `between` from the ys back, each once all its consumers have given their
    gradients, adding each op's input gradients to `grads` (tensor -> contributions)."""
    pending = dict.fromkeys(between, 0)  # gradient contributions each op waits for
    for op in between:
        if op not in stops:
            for t in op.inputs:
                if t.op in between:
                    pending[t.op] += 1
    ready = [op for op in between if pending[op] == 0]
    done = set()
    while ready:
        op = ready.pop()
        if op in done:
            continue
        done.add(op)
        if op in stops:
            continue
        out_grads = [_total(grads, t) for t in op.outputs]
        if any(g is not None for g in out_grads):
            in_grads = _call_gradient(graph, op, out_grads)
            for t, g in zip(op.inputs, in_grads):
                if g is not None and t.op in between and _differentiable(t):
                    grads.setdefault(t, []).append(g)
        for t in op.inputs:
            if t.op in between:
                pending[t.op] -= 1
                if pending[t.op] == 0:
                    ready.append(t.op)


def _total(grads, tensor):
    """The summed gradient of `tensor`, computed once (the sum replaces its contributions)."""
    contributions = grads.get(tensor)
    if contributions and len(contributions) > 1:
        grads[tensor] = [_sum(contributions)]
    return grads[tensor][0] if contributions else None


def _sum(contributions):
    """add_n of the contributions; IndexedSlices only: their rows concatenated (still sparse)."""
    if all(isinstance(g, IndexedSlices) for g in contributions):
        indices = [g.indices for g in contributions]
        if len({i.dtype.base_dtype for i in indices}) > 1:  # int32 and int64 rows: all int64, as TF
            indices = [cast(i, dtypes.int64) for i in indices]
        return IndexedSlices(concat([g.values for g in contributions], 0), concat(indices, 0),
                             contributions[0].dense_shape)
    return add_n([convert_to_tensor(g) for g in contributions])


def _call_gradient(graph, op, out_grads):
    try:
        fn = get_gradient_function(op)
    except LookupError:
        if not any(_differentiable(t) for t in op.inputs):
            return [None] * len(op.inputs)
        raise
    if fn is None:
        return [None] * len(op.inputs)
    if all(g is None for g in out_grads):
        return [None] * len(op.inputs)
    out_grads = [g if g is not None or not _differentiable(t) else zeros_like(t)
                 for g, t in zip(out_grads, op.outputs)]
    with graph.name_scope(op.name + "_grad"):
        result = fn(op, *out_grads)
    result = list(result) if isinstance(result, list | tuple) else [result]
    if len(result) != len(op.inputs):
        raise ValueError(f"Gradient function for '{op.type}' returned {len(result)} gradients, "
                         f"but op '{op.name}' has {len(op.inputs)} inputs.")
    return [g if g is None or isinstance(g, Tensor | IndexedSlices) else convert_to_tensor(g) for g in result]


def hessians(ys, xs, name="hessians"):
    """Second derivatives of sum(ys) with respect to each (vector) x in `xs`."""
    out = []
    for x in _as_list(xs):
        g = gradients(ys, x)[0]
        n = x.shape.num_elements()
        rows = [gradients(reduce_sum(gi), x)[0] for gi in unstack(g, num=n)] if x.shape.ndims == 1 else None
        if rows is None:
            raise ValueError("hessians supports 1-D xs only")
        out.append(stack(rows))
    return out

