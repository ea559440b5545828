"""Op families, one file each; every op is one block (wrapper, shape, kernel, gradient)."""
