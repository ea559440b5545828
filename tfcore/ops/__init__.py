"""Op families, one file each; every op is one block (wrapper, shape, kernel, gradient)."""

from tfcore.ops import conv_fast, math_fast  # noqa: F401 - register the fast kernels (convolution, pooling, MatMul)
