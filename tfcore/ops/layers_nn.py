"""The tf.nn functions that tf.layers is written on: max_pool2d, avg_pool2d and batch_normalization.

None of them is a new op. The two pooling functions are TF 2's names (and argument order) for
MaxPool and AvgPool (conv_ops.py); batch_normalization is a formula of existing ops, so its
gradient comes from theirs.
"""

from tfcore.framework.graph import convert_to_tensor
from tfcore.ops import elementwise_ops, math_ops
from tfcore.ops.conv_ops import avg_pool, max_pool
from tfcore.ops.scopes import name_scope

# Public names; tfcore/nn.py exports them as tf.nn.<name>.
__all__ = ["max_pool2d", "avg_pool2d", "batch_normalization"]


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """The maximum over each window of an NHWC image (TF 2's signature of `max_pool`).

    ksize/strides: an int, or a list of 1, 2 or 4 ints; padding "SAME" or "VALID".
    """
    with name_scope(name, "MaxPool2d") as scope:
        return max_pool(input, ksize, strides, padding, data_format=data_format, name=scope)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """The mean over each window of an NHWC image (TF 2's signature of `avg_pool`).

    ksize/strides: an int, or a list of 1, 2 or 4 ints; padding "SAME" or "VALID". With SAME
    padding a border window averages its real pixels only.
    """
    with name_scope(name, "AvgPool2D") as scope:
        return avg_pool(input, ksize, strides, padding, data_format=data_format, name=scope)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """scale * (x - mean) / sqrt(variance + variance_epsilon) + offset, broadcasting the statistics.

    Computed as TF does, x * inv + (offset - mean * inv) with inv = scale * rsqrt(variance + eps),
    so that the rounding is the same; `offset` or `scale` may be None (0 and 1).
    """
    with name_scope(name, "batchnorm"):
        x = convert_to_tensor(x, name="x")
        dtype = x.dtype.base_dtype
        mean = convert_to_tensor(mean, dtype=dtype, name="mean")
        variance = convert_to_tensor(variance, dtype=dtype, name="variance")
        epsilon = convert_to_tensor(variance_epsilon, dtype=dtype, name="variance_epsilon")
        inv = elementwise_ops.rsqrt(math_ops.add(variance, epsilon))
        if scale is not None:
            inv = math_ops.multiply(inv, convert_to_tensor(scale, dtype=dtype, name="scale"))
        shift = math_ops.multiply(mean, inv)
        if offset is not None:
            shift = math_ops.subtract(convert_to_tensor(offset, dtype=dtype, name="offset"), shift)
        else:
            shift = math_ops.negative(shift)
        return math_ops.add(math_ops.multiply(x, inv), shift)
