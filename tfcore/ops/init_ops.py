"""Initializers: objects that build a variable's initial value, `init(shape, dtype, partition_info)`.

`tf.get_variable("w", [784, 10], initializer=tf.truncated_normal_initializer(stddev=0.1))` calls
the initializer inside the scope "w/Initializer", so its ops are named "w/Initializer/...".
The variance-scaling family (Glorot, He, LeCun) sizes the random values from the fans of the
shape: for a dense kernel [in, out] fan_in = in and fan_out = out; for a convolution kernel
[h, w, in, out] each is multiplied by the receptive field h * w.
"""

import math

import numpy as np

from tfcore.framework import dtypes
from tfcore.framework.tensor_shape import as_shape
from tfcore.ops import random_ops
from tfcore.ops.array_ops import ones, zeros
from tfcore.ops.constant_op import constant

# Public names, exported as tf.<name> (keep this list in step with the blocks below).
__all__ = [
    "constant_initializer",
    "zeros_initializer",
    "ones_initializer",
    "random_normal_initializer",
    "truncated_normal_initializer",
    "random_uniform_initializer",
    "uniform_unit_scaling_initializer",
    "variance_scaling_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
]


def _float_dtype(dtype):
    dtype = dtypes.as_dtype(dtype).base_dtype
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def _shape_list(shape):
    return [int(d) for d in as_shape(shape).as_list()]


class Initializer:
    """Base class: `init(shape, dtype=None, partition_info=None)` returns the initial-value tensor."""

    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments, so that `type(init).from_config(init.get_config())` copies it."""
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# ================================================================================================
# Constant values
# ================================================================================================


class Zeros(Initializer):
    """All zeros."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype).base_dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return zeros(_shape_list(shape), dtype or self.dtype)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    """All ones."""

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype).base_dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return ones(_shape_list(shape), dtype or self.dtype)

    def get_config(self):
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """A given value: a scalar fills the shape; a list fills it in order (TF1: a short list is
    padded with its last element)."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        if not np.isscalar(value) and not isinstance(value, list | tuple | np.ndarray):
            raise TypeError(f"Invalid type for initial value: {type(value).__name__} (expected Python "
                            "scalar, list or tuple of values, or numpy.ndarray).")
        self.value = value
        self.dtype = dtypes.as_dtype(dtype).base_dtype
        self._verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        verify = self._verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype=dtype or self.dtype, shape=_shape_list(shape), verify_shape=verify)

    def get_config(self):
        return {"value": self.value, "dtype": self.dtype.name, "verify_shape": self._verify_shape}


class Identity(Initializer):
    """gain times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0, dtype=dtypes.float32):
        self.gain = gain
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape_list(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices.")
        dtype = _float_dtype(dtype or self.dtype)
        return constant(self.gain * np.eye(*shape), dtype=dtype, name="Identity")

    def get_config(self):
        return {"gain": self.gain, "dtype": self.dtype.name}


# ================================================================================================
# Random values
# ================================================================================================


class RandomNormal(Initializer):
    """Samples of N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(_shape_list(shape), self.mean, self.stddev,
                                        _float_dtype(dtype or self.dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(Initializer):
    """Samples of N(mean, stddev^2) redrawn when further than 2 stddev from the mean."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(_shape_list(shape), self.mean, self.stddev,
                                           _float_dtype(dtype or self.dtype), seed=self.seed)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    """Uniform samples in [minval, maxval) (floats, or integers when given an integer dtype)."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = dtypes.as_dtype(dtype).base_dtype

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(_shape_list(shape), self.minval, self.maxval,
                                         dtype or self.dtype, seed=self.seed)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class UniformUnitScaling(Initializer):
    """TF1's older scaled uniform: [-limit, limit) with limit = factor * sqrt(3 / input_size), where
    input_size is the product of all dimensions but the last."""

    def __init__(self, factor=1.0, seed=None, dtype=dtypes.float32):
        self.factor, self.seed = factor, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        shape = _shape_list(shape)
        input_size = max(1.0, float(np.prod(shape[:-1])) if shape else 1.0)
        limit = math.sqrt(3.0 / input_size) * self.factor
        return random_ops.random_uniform(shape, -limit, limit, _float_dtype(dtype or self.dtype),
                                         seed=self.seed)

    def get_config(self):
        return {"factor": self.factor, "seed": self.seed, "dtype": self.dtype.name}


# ================================================================================================
# Variance scaling: Glorot (Xavier), He, LeCun
# ================================================================================================


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape: [n] -> (n, n); [in, out]; [h, w, ..., in, out] -> the
    receptive field h * w * ... times in and out."""
    shape = _shape_list(shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# NOTE: the standard deviation of N(0, 1) truncated to [-2, 2]; dividing by it gives the truncated
# samples the variance asked for (TF1's constant).
_TRUNCATED_STDDEV = .87962566103423978


class VarianceScaling(Initializer):
    """Random values with variance scale / n, where n is fan_in, fan_out or their mean (`mode`).

    distribution "truncated_normal" (TF1 also reads "normal" this way): truncated normal with
    stddev sqrt(scale / n) / 0.8796...; "untruncated_normal": normal with stddev sqrt(scale / n);
    "uniform": uniform in [-limit, limit) with limit sqrt(3 scale / n).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=dtypes.float32):
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _float_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _float_dtype(dtype or self.dtype)
        shape = _shape_list(shape)
        full_shape = getattr(partition_info, "full_shape", None) or shape
        fan_in, fan_out = compute_fans(full_shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(variance), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * variance)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Glorot (Xavier) uniform: [-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Glorot (Xavier) normal: truncated normal with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None, dtype=dtypes.float32):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed, dtype=dtype)

    def get_config(self):
        return {"seed": self.seed, "dtype": self.dtype.name}


def he_normal(seed=None):
    """He normal: truncated normal with variance 2 / fan_in (for ReLU layers)."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed=None):
    """He uniform: [-limit, limit) with limit = sqrt(6 / fan_in)."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=seed)


def lecun_normal(seed=None):
    """LeCun normal: truncated normal with variance 1 / fan_in."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed=None):
    """LeCun uniform: [-limit, limit) with limit = sqrt(3 / fan_in)."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=seed)


# TF1's names: the classes themselves, called with the constructor's arguments.
constant_initializer = Constant
zeros_initializer = Zeros
ones_initializer = Ones
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
uniform_unit_scaling_initializer = UniformUnitScaling
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
