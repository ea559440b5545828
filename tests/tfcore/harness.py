"""What every tfcore test shares: the engines, running one program on an engine, the gradient checker.

An engine is a module with the TF1 API: `tfcore` always, and real TensorFlow
(`tensorflow.compat.v1`, graph mode) where it is importable. Programs are written once against a
parameter `tf` and run on each engine in a fresh graph.
"""

import functools

import numpy as np
import pytest

import tfcore


@functools.cache
def reference_tf():
    """`tensorflow.compat.v1` (TF1 behaviour) when TensorFlow is installed, else None."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        return None
    # Classic TF1 semantics (ref variables, Dimension objects, Switch/Merge cond), as the course's
    # engine switch sets them up; eager execution stays on for other tests (graphs are explicit).
    from course.engine import tensorflow_v1
    return tensorflow_v1(eager_off=False)


def require_tf():
    """The reference engine, or skip the test with the reason."""
    tf = reference_tf()
    if tf is None:
        pytest.skip("TensorFlow is not installed: the comparison against the reference engine is skipped")
    return tf


def engines():
    """pytest params for the engines available here: tfcore, and TensorFlow where installed."""
    return [pytest.param("tfcore", id="tfcore"),
            pytest.param("tensorflow", id="tensorflow", marks=pytest.mark.tensorflow)]


def engine(name):
    """The module for engine `name` (skips when TensorFlow is requested but missing)."""
    return tfcore if name == "tfcore" else require_tf()


def run_in_graph(tf, program, *args, **kwargs):
    """Run `program(tf, *args)` in a fresh default graph of engine `tf` and return its result."""
    graph = tf.Graph()
    with graph.as_default():
        return program(tf, *args, **kwargs)


# ------------------------------------------------------------------------------------------------
# Running one op spec
# ------------------------------------------------------------------------------------------------


def _as_list(x):
    return list(x) if isinstance(x, list | tuple) else [x]


class BuiltSpec:
    """One op spec built in a graph of one engine, fed through placeholders.

    `outputs` are the op's outputs; `loss` is sum_i sum(output_i * W_i) with fixed random weights W_i
    (so every output element gets a distinct gradient); `grads` its gradients with respect to the
    differentiable inputs.
    """

    def __init__(self, tf, spec, arrays, with_grads):
        self.tf = tf
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.placeholders = [tf.placeholder(tf.as_dtype(a.dtype), a.shape, name=f"in{i}")
                                 for i, a in enumerate(arrays)]
            self.outputs = _as_list(spec.build(tf, *self.placeholders))
            self.loss = None
            self.grads = []
            self.grad_inputs = [i for i in spec.grad_inputs(arrays)] if with_grads else []
            if with_grads and self.grad_inputs:
                rng = np.random.default_rng(1234)
                terms = []
                shapes = [o.get_shape() for o in self.outputs]
                if not all(s.is_fully_defined() for s in shapes):  # learn them from one run
                    with tf.Session(graph=self.graph) as probe:
                        shapes = [np.shape(v) for v in probe.run(self.outputs, self.feed(arrays))]
                else:
                    shapes = [s.as_list() for s in shapes]
                for out, shape in zip(self.outputs, shapes):
                    dtype = out.dtype.base_dtype
                    if not dtype.is_floating:
                        continue
                    weights = rng.uniform(0.5, 1.5, size=shape).astype(dtype.as_numpy_dtype)
                    terms.append(tf.reduce_sum(out * tf.constant(weights)))
                self.loss = tf.add_n(terms) if len(terms) > 1 else terms[0]
                self.grads = tf.gradients(self.loss, [self.placeholders[i] for i in self.grad_inputs])
            self.session = tf.Session(graph=self.graph)

    def feed(self, arrays):
        return dict(zip(self.placeholders, arrays))

    def run_outputs(self, arrays):
        return self.session.run(self.outputs, self.feed(arrays))

    def run_loss(self, arrays):
        return float(self.session.run(self.loss, self.feed(arrays)))

    def run_grads(self, arrays):
        fetch = [g for g in self.grads if g is not None]
        values = iter(self.session.run(fetch, self.feed(arrays)))
        return [None if g is None else next(values) for g in self.grads]

    def close(self):
        self.session.close()


def numerical_gradient(f, arrays, index, eps=1e-6):
    """Central differences of scalar `f(arrays)` with respect to `arrays[index]` (float64)."""
    x = arrays[index]
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    for k in range(flat.size):
        saved = flat[k]
        flat[k] = saved + eps
        plus = f(arrays)
        flat[k] = saved - eps
        minus = f(arrays)
        flat[k] = saved
        grad.reshape(-1)[k] = (plus - minus) / (2 * eps)
    return grad


def check_gradients(tf, spec, arrays, rtol=1e-5, atol=1e-6):
    """The one gradient checker: symbolic gradients of `spec` against central differences (float64)."""
    arrays = [a.copy() for a in arrays]
    built = BuiltSpec(tf, spec, arrays, with_grads=True)
    try:
        assert built.grad_inputs, f"{spec.name}: no differentiable input"
        symbolic = built.run_grads(arrays)
        for i, g in zip(built.grad_inputs, symbolic):
            assert g is not None, f"{spec.name}: gradient for input {i} is None"
            numeric = numerical_gradient(built.run_loss, arrays, i)
            np.testing.assert_allclose(g, numeric, rtol=rtol, atol=atol,
                                       err_msg=f"{spec.name}: gradient of input {i}")
    finally:
        built.close()
