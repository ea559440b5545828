"""What every device provides: its kind and index, its array module, and two transfer primitives."""

import contextlib


class DeviceUnavailable(RuntimeError):
    """A device was asked for that this process cannot use; the message says why."""


class Device:
    """One device ops can run on.

    kind, index: e.g. "GPU", 0 (the op stamp "/device:GPU:0").
    xp:          the array module kernels get (numpy, cupy).
    is_host:     True for the CPU: its arrays are the NumPy arrays users feed and fetch.
    accelerator: True for devices whose kernels keep shape-like int32 arguments in host memory (as
                 TF's GPU kernels do), see tfcore/devices/placement.py.

    `to_host` and `from_host` move arrays; only `tfcore.devices.copy` calls them.
    """

    kind = "CPU"
    index = 0
    xp = None
    is_host = False
    accelerator = True

    @property
    def name(self):
        """The short canonical name ops are stamped with, e.g. "/device:GPU:0"."""
        return f"/device:{self.kind}:{self.index}"

    def holds(self, value):
        """True when `value` is an array of this device (no copy needed to use it here)."""
        return isinstance(value, self.xp.ndarray)

    def to_host(self, array):
        """A NumPy copy of one of this device's arrays."""
        raise NotImplementedError

    def from_host(self, array):
        """This device's copy of a NumPy array."""
        raise NotImplementedError

    def scope(self):
        """A context manager that makes this device current while a kernel runs (a null one by default)."""
        return contextlib.nullcontext()

    def describe(self):
        """One line for logs: the name and what backs it."""
        return self.name

    def __repr__(self):
        return f"<Device {self.name}>"
