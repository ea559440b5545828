"""Devices for the tfcore tests: the `device` parametrisation and the placement test device.

`device` runs a test on each device: the CPU, the GPU (skipped, with the reason, where CuPy or a
GPU is missing; `pytest -m gpu` selects these), and TEST, a device kind backed by NumPy that exists
only in this test suite: its "copies" are NumPy copies, so on a machine without a GPU it checks
that placement, copies at device boundaries and host-memory arguments give the CPU's results.
The `device_engine` fixture is the tfcore engine with every graph it creates built under
`tf.device(device)`, so op specs and seed programs run unchanged on a device; `copies` records each
call of the one copy function.
"""

import numpy as np
import pytest

import tfcore
from tfcore import devices
from tfcore.devices.device import Device

TEST_KIND = "TEST"


class PlacementTestDevice(Device):
    """A second device kind for tests only: NumPy arrays, "transfers" are NumPy copies.

    It is an accelerator (shape-like arguments stay on the host) so that the plan treats it as it
    treats a GPU; counting calls of `tfcore.devices.copy` shows where the plan crosses devices.
    """

    kind = TEST_KIND
    xp = np
    is_host = False
    accelerator = True

    def __init__(self, index):
        self.index = index

    def holds(self, value):
        return isinstance(value, np.ndarray | np.generic)  # (a NumPy reduction may give a scalar)

    def to_host(self, array):
        return np.array(array, copy=True)

    def from_host(self, array):
        return np.array(array, copy=True)


def _test_device_factory(index):
    if index != 0:
        raise devices.DeviceUnavailable(f"the placement test device has one unit (TEST:0), not TEST:{index}")
    return PlacementTestDevice(index)


if not devices.available(f"/device:{TEST_KIND}:0"):
    devices.register_kind(TEST_KIND, _test_device_factory)  # tests only: never registered by the product


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: runs on the GPU device (skipped where CuPy or a GPU is missing)")


def device_params():
    """pytest params over the devices: cpu, gpu (skipped with the reason where missing), testdev."""
    reason = devices.gpu_unavailable_reason()
    return [
        pytest.param("/device:CPU:0", id="cpu"),
        pytest.param("/device:GPU:0", id="gpu", marks=[
            pytest.mark.gpu, pytest.mark.skipif(reason is not None, reason=f"no GPU device: {reason}")]),
        pytest.param(f"/device:{TEST_KIND}:0", id="testdev"),
    ]


@pytest.fixture(params=device_params())
def device(request):
    """The canonical name of the device the test runs on."""
    return request.param


class OnDevice:
    """The tfcore module, except that every `Graph()` it makes builds its ops under `tf.device(name)`."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(tfcore, attr)

    def Graph(self):  # noqa: N802 - tf.Graph
        graph = tfcore.Graph()
        scope = graph.device(self._name)
        scope.__enter__()  # stays in force for the graph's life
        graph._test_device_scope = scope
        return graph

    def __repr__(self):
        return f"<tfcore on {self._name}>"


def on_device(name):
    """The engine to build with for device `name`: tfcore itself for the CPU (the default)."""
    return tfcore if name == "/device:CPU:0" else OnDevice(name)


@pytest.fixture
def device_engine(device):
    """The engine whose graphs build on `device` (see `on_device`)."""
    return on_device(device)


@pytest.fixture
def copies(monkeypatch):
    """The copies the plan makes, as (source kind, target kind), recorded by wrapping the one copy
    function (`tfcore.devices.copy`), which still does the copying."""
    made = []
    real = devices.copy

    def recording(array, device, source=None):
        made.append(((source or devices.CPU).kind, device.kind))
        return real(array, device, source)

    monkeypatch.setattr(devices, "copy", recording)
    return made
