"""The CPU device: kernels run on NumPy arrays, which are also what users feed and fetch."""

import numpy as np

from tfcore.devices.device import Device


class CPUDevice(Device):
    """The host: NumPy. There is exactly one (`CPU`)."""

    kind = "CPU"
    index = 0
    xp = np
    is_host = True
    accelerator = False

    def holds(self, value):
        return type(value) is np.ndarray

    def to_host(self, array):
        return np.array(array, copy=True)

    def from_host(self, array):
        return np.array(array, copy=True)

    def describe(self):
        return f"{self.name} (NumPy {np.__version__})"


CPU = CPUDevice()
