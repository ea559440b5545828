"""Fusion, the fifth pass of a plan (see plan.py): a chain of ops run as one step.

A fast-kernel module registers a kernel that does the work of several ops in one pass over memory
(`register_fusion`: "Conv2D", "BiasAdd", "Relu" adds the bias and applies the ReLU to each tile of
the convolution's result while it is in the cache). The pass finds such chains among the bound steps:
each op's only reader is the next op of the chain, through its first input, and nothing else reads,
fetches or waits on a value inside the chain. The chain becomes one step at the place of its last op,
reading the first op's inputs and the other inputs of the later ops, writing the last op's outputs.
Where a step between the chain's first and last op may write a variable, the chain is left alone
(moving the first op later could let it see a later value).
"""

import functools
from collections import Counter

from tfcore.client.bind import REF, SLOT, Step
from tfcore.framework.registry import fusions_from


def fuse(steps, kept):
    """`steps` with every fusable chain replaced by one step; `kept`: slots fetched or waited on."""
    reads, reader = Counter(), {}
    for index, step in enumerate(steps):
        for s in [p for kind, p in step.sources if kind == SLOT] + list(step.control_slots):
            reads[s] += 1
            reader[s] = index
    replaced = {}  # index of a chain's last step -> the fused step; other chain members -> None
    for index, step in enumerate(steps):
        if index in replaced or step.kernel is None or not hasattr(step.op, "op_def"):
            continue
        for types, kernel in fusions_from(step.device.kind, step.op.type):
            members = _chain(steps, index, types, reads, reader, kept)
            if members and not any(m in replaced for m in members):
                replaced.update(dict.fromkeys(members[:-1]))
                replaced[members[-1]] = _fused_step([steps[m] for m in members], kernel)
                break
    if not replaced:
        return steps
    return [replaced[i] if i in replaced else step for i, step in enumerate(steps)
            if replaced.get(i, step) is not None]


def _chain(steps, first, types, reads, reader, kept):
    """The step indices of a chain of `types` starting at step `first`, or None where there is none."""
    members = [first]
    for op_type in types[1:]:
        step = steps[members[-1]]
        if len(step.outputs) != 1:
            return None
        out = step.outputs[0]
        if reads[out] != 1 or out in kept or reads[step.done_slot] or step.done_slot in kept:
            return None
        following = steps[reader[out]]
        if (following.op.type != op_type or following.kernel is None or following.device is not step.device
                or following.sources[0] != (SLOT, out)):
            return None
        members.append(reader[out])
    between = steps[first + 1:members[-1]]
    if any(kind == REF for step in between for kind, _ in step.sources):
        return None
    return members


def _fused_step(chain, kernel):
    """One step running `kernel` for the steps of `chain` (see `register_fusion` for its arguments)."""
    first, last = chain[0], chain[-1]
    sources = list(first.sources) + [source for step in chain[1:] for source in step.sources[1:]]
    attrs = tuple(step.op._attrs for step in chain)
    control = sorted({s for step in chain for s in step.control_slots})
    step = Step(first.op, first.device, functools.partial(kernel, attrs=attrs), first.ctx, sources,
                last.outputs, last.out_dtypes, control, last.done_slot)
    step.fused = tuple(s.op for s in chain)
    return step
