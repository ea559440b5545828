"""Every op of the op-spec table: (a) values against NumPy, (b) float64 gradient checks,
(c) values and gradients against real TensorFlow where it is installed.

(a) and (b) run on each device (the `device` fixture, tests/tfcore/conftest.py): the CPU, the GPU
where CuPy sees one (skipped with the reason otherwise) and the NumPy-backed placement test device."""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import BuiltSpec, check_gradients, require_tf
from tests.tfcore.opspecs import ALL_SPECS


def _flat(x):
    return list(x) if isinstance(x, list | tuple) else [x]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.reference is not None], ids=repr)
def test_values_match_numpy(spec, dtype, device_engine):
    if dtype not in spec.dtypes:
        pytest.skip(f"{spec.name} is not defined for {dtype}")
    arrays = spec.make_inputs(dtype)
    built = BuiltSpec(device_engine, spec, arrays, with_grads=False)
    try:
        got = built.run_outputs(arrays)
    finally:
        built.close()
    want = _flat(spec.reference(*[a.copy() for a in arrays]))
    assert len(got) == len(want)
    tol = dict(rtol=spec.rtol, atol=spec.atol) if dtype == "float64" else dict(
        rtol=max(spec.rtol, 1e-5), atol=max(spec.atol, 1e-5))
    for g, w, t in zip(got, want, built.outputs):
        w = np.asarray(w)
        assert np.shape(g) == w.shape, f"{spec.name}: shape {np.shape(g)} != {w.shape}"
        if w.dtype.kind == "f":
            assert np.asarray(g).dtype == np.dtype(t.dtype.as_numpy_dtype)
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64) if w.dtype.kind in "fiub" else g,
                                   w, err_msg=spec.name, **tol)
        static = t.get_shape()
        assert static.is_compatible_with(np.shape(g)), f"{spec.name}: static shape {static} vs {np.shape(g)}"


@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.grad and "float64" in s.dtypes], ids=repr)
def test_gradient_float64(spec, device_engine):
    check_gradients(device_engine, spec, spec.make_inputs("float64"), rtol=spec.grad_rtol,
                    atol=spec.grad_atol)


@pytest.mark.tensorflow
@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.tf], ids=repr)
def test_matches_tensorflow(spec):
    tf = require_tf()
    dtype = "float64" if "float64" in spec.dtypes else spec.dtypes[0]
    arrays = spec.make_inputs(dtype)
    ours = BuiltSpec(tfcore, spec, arrays, with_grads=spec.grad)
    theirs = BuiltSpec(tf, spec, arrays, with_grads=spec.grad)
    try:
        for a, b in zip(ours.run_outputs(arrays), theirs.run_outputs(arrays)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=f"{spec.name}: values")
        assert [t.get_shape().as_list() for t in ours.outputs] == [
            t.get_shape().as_list() for t in theirs.outputs], f"{spec.name}: static shapes differ"
        if spec.grad and ours.grad_inputs:
            for a, b in zip(ours.run_grads(arrays), theirs.run_grads(arrays)):
                assert (a is None) == (b is None)
                if a is not None:
                    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=f"{spec.name}: gradients")
    finally:
        ours.close()
        theirs.close()
