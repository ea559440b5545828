"""Devices: the array modules kernels run against (NumPy on the CPU; CuPy on the GPU comes later)."""
