"""Op families, one file each; every op is one block (wrapper, shape, kernel, gradient)."""

from tfcore.ops import conv_fast  # noqa: F401 - registers the fast convolution and pooling kernels
