"""The op-spec record and the input makers every family table uses."""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Input:
    """How to make one input array: `kind` is normal, positive, uniform, int, bool or fixed."""

    shape: tuple
    kind: str = "normal"
    low: float = -1.0
    high: float = 1.0
    value: object = None
    differentiable: bool = True

    def make(self, rng, float_dtype):
        if self.kind == "fixed":
            return np.array(self.value, dtype=np.asarray(self.value).dtype if
                            np.asarray(self.value).dtype.kind not in "f" else float_dtype)
        if self.kind == "normal":
            return rng.standard_normal(self.shape).astype(float_dtype)
        if self.kind == "positive":
            return rng.uniform(0.5, 2.0, self.shape).astype(float_dtype)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, self.shape).astype(float_dtype)
        if self.kind == "away":  # |x| in [0.2, 2]: away from kinks at 0 (abs, relu, sign)
            mag = rng.uniform(0.2, 2.0, self.shape)
            return (mag * rng.choice([-1.0, 1.0], self.shape)).astype(float_dtype)
        if self.kind == "distinct":  # distinct values: no ties (max, argmax, pooling)
            n = int(np.prod(self.shape))
            return (rng.permutation(n).reshape(self.shape) * 0.1 - n * 0.05).astype(float_dtype)
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), self.shape).astype(np.int32)
        if self.kind == "int64":
            return rng.integers(int(self.low), int(self.high), self.shape).astype(np.int64)
        if self.kind == "bool":
            return rng.random(self.shape) < 0.5
        raise ValueError(f"unknown input kind {self.kind}")

    @property
    def is_float(self):
        return self.kind in ("normal", "positive", "uniform", "away", "distinct") or (
            self.kind == "fixed" and np.asarray(self.value).dtype.kind == "f")


def F(*shape, kind="normal", **kw):
    """A float input of `shape` (the dtype under test)."""
    return Input(tuple(shape), kind, **kw)


def I(*shape, low=0, high=5):  # noqa: E743
    """An int32 input (not differentiable)."""
    return Input(tuple(shape), "int", low=low, high=high, differentiable=False)


def B(*shape):
    """A bool input (not differentiable)."""
    return Input(tuple(shape), "bool", differentiable=False)


def Fixed(value, differentiable=False):
    """A fixed value (e.g. labels, indices); floats take the dtype under test."""
    return Input(np.shape(value), "fixed", value=value, differentiable=differentiable)


@dataclass
class OpSpec:
    """One row of the op table: build the op on an engine, and say what it must compute.

    build:      build(tf, *input_tensors) -> tensor or list of tensors, written against the TF1 API;
    reference:  reference(np_arrays...) -> array(s): the NumPy definition (None: checked otherwise);
    inputs:     how to make each input;
    grad:       whether to check gradients (of the differentiable float inputs);
    tf:         whether to compare against real TensorFlow;
    """

    name: str
    build: object
    reference: object
    inputs: list
    grad: bool = True
    tf: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    grad_rtol: float = 1e-5
    grad_atol: float = 1e-6
    dtypes: tuple = ("float32", "float64")
    seed: int = 0
    tags: tuple = field(default_factory=tuple)

    def make_inputs(self, dtype):
        rng = np.random.default_rng(self.seed)
        return [i.make(rng, np.dtype(dtype)) for i in self.inputs]

    def grad_inputs(self, arrays):
        return [k for k, (i, a) in enumerate(zip(self.inputs, arrays))
                if i.differentiable and i.is_float and a.dtype.kind == "f"]

    def __repr__(self):
        return self.name
