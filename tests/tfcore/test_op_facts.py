"""The facts op blocks give `register_op` are true of their kernels.

The plan lets a kernel overwrite an input that dies at its op unless another value may share that
array, which it learns from the facts alone: `forwards_inputs` (the inputs whose array an output
may be, or be a view of), `ref_inputs` (the op reads or writes a variable) and `constant`. Every op
of the op-spec table runs here, with its gradient ops, and each kernel's outputs are checked
against its inputs: one that shares memory with an input must say so.
"""

import numpy as np
import pytest

import tfcore
import tfcore.client.plan as plan
from tests.tfcore.harness import BuiltSpec
from tests.tfcore.opspecs import ALL_SPECS


@pytest.fixture
def unannounced_sharing(monkeypatch):
    """Op types whose kernel returned an array sharing memory with an input, without a fact saying so."""
    found = set()
    run_step = plan._run_step

    def checking(step, values, variables, trace, has_branches):
        inputs = [values[s] for s in step.input_slots or ()]
        run_step(step, values, variables, trace, has_branches)
        op_def = getattr(step.op, "op_def", None)
        if op_def is None or step.donors or op_def.ref_inputs or op_def.constant:
            return
        forwarded = range(len(inputs)) if op_def.forwards_inputs is True else op_def.forwards_inputs or ()
        others = [a for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and i not in forwarded
                  and not any(a is inputs[j] for j in forwarded)]  # (one array fed to two inputs)
        for s in step.outputs:
            out = values[s]
            if isinstance(out, np.ndarray) and any(np.may_share_memory(out, a) for a in others):
                found.add(step.op.type)

    monkeypatch.setattr(plan, "_run_step", checking)
    return found


@pytest.mark.parametrize("spec", ALL_SPECS, ids=repr)
def test_outputs_share_an_input_only_where_the_op_says_so(spec, unannounced_sharing):
    dtype = "float64" if "float64" in spec.dtypes else spec.dtypes[0]
    arrays = spec.make_inputs(dtype)
    built = BuiltSpec(tfcore, spec, arrays, with_grads=bool(spec.grad))
    try:
        built.session.run(built.outputs + [g for g in built.grads if g is not None], built.feed(arrays))
    finally:
        built.close()
    assert unannounced_sharing == set()


def test_the_check_sees_an_unannounced_view(unannounced_sharing):
    from tfcore.framework.registry import _OPS, register_op
    register_op("ViewWithoutSaying", shape=lambda inputs: [(inputs[0].shape, inputs[0].dtype)],
                kernel=lambda ctx, x: x[...])
    try:
        with tfcore.Graph().as_default():
            x = tfcore.placeholder(tfcore.float32, [3])
            y = tfcore.framework.graph.apply_op("ViewWithoutSaying", [x])
            with tfcore.Session() as sess:
                sess.run(y, {x: np.ones(3, np.float32)})
    finally:
        del _OPS["ViewWithoutSaying"]
    assert unannounced_sharing == {"ViewWithoutSaying"}
