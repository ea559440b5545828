"""The GPU device: CuPy arrays on an NVIDIA GPU (CuPy is optional: `pip install -e ".[gpu]"`).

CuPy is imported the first time a GPU is asked for, never by `import tfcore`. When it cannot be
imported, or it sees no GPU, `GPUDevice.open` raises DeviceUnavailable saying which, and the plan
turns that into an error naming the op (or, with `allow_soft_placement`, a CPU fallback and a log
line).
"""

import functools

import numpy as np

from tfcore.devices.device import Device, DeviceUnavailable

INSTALL_HINT = "pip install -e '.[gpu]' installs cupy-cuda12x"


@functools.cache
def _cupy():
    """The cupy module, or DeviceUnavailable saying why it cannot be used."""
    try:
        import cupy
    except ImportError as e:
        raise DeviceUnavailable(f"CuPy is not installed ({INSTALL_HINT}): {e}") from None
    except Exception as e:  # a broken CUDA install makes cupy's import itself fail
        raise DeviceUnavailable(f"CuPy failed to import: {type(e).__name__}: {e}") from None
    return cupy


@functools.cache
def device_count():
    """How many GPUs CuPy sees (DeviceUnavailable when CuPy is missing or the driver fails)."""
    cupy = _cupy()
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception as e:  # CUDARuntimeError: no driver, no device, ...
        raise DeviceUnavailable(
            f"CuPy is installed but finds no usable GPU: {type(e).__name__}: {e}") from None


class GPUDevice(Device):
    """GPU number `index`, through CuPy. Kernels get ``xp = cupy``."""

    kind = "GPU"
    is_host = False
    accelerator = True

    def __init__(self, cupy, index):
        self.index = index
        self.xp = cupy
        self._cuda_device = cupy.cuda.Device(index)

    @classmethod
    def open(cls, index):
        """The device for GPU `index`, or DeviceUnavailable (no CuPy, no GPU, index out of range)."""
        count = device_count()
        if count == 0:
            raise DeviceUnavailable("CuPy is installed but sees no GPU (CUDA reports 0 devices)")
        if index >= count:
            raise DeviceUnavailable(f"there {'is' if count == 1 else 'are'} {count} GPU(s) here "
                                    f"(GPU:0..GPU:{count - 1}), not GPU:{index}")
        return cls(_cupy(), index)

    def holds(self, value):
        return isinstance(value, self.xp.ndarray) and value.device.id == self.index

    def to_host(self, array):
        return self.xp.asnumpy(array)

    def from_host(self, array):
        with self._cuda_device:
            return self.xp.asarray(np.asarray(array))

    def scope(self):
        return self._cuda_device

    def describe(self):
        props = self.xp.cuda.runtime.getDeviceProperties(self.index)
        name = props.get("name", b"?")
        name = name.decode() if isinstance(name, bytes) else str(name)
        return f"{self.name} ({name}, CuPy {self.xp.__version__})"
