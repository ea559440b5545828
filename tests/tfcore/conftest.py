"""Devices for the tfcore tests: the `device` parametrisation and the placement test device.

`device` runs a test on each device: the CPU, the GPU (skipped, with the reason, where CuPy or a
GPU is missing; `pytest -m gpu` selects these), and TEST, a device kind that exists only in this
test suite, to test placement without a GPU. Its arrays are NumPy memory with CuPy's rules
(`StrictArray`: NumPy cannot read them implicitly, and no operation mixes them with host arrays)
and its "copies" are NumPy copies, so on a machine without a GPU it checks that placement, copies
at device boundaries and host-memory arguments give the CPU's results, and that kernels keep to
their `xp` as they must on CuPy.
The `device_engine` fixture is the tfcore engine with every graph it creates built under
`tf.device(device)`, so op specs and seed programs run unchanged on a device; `copies` records each
call of the one copy function.
"""

import numbers
import types

import numpy as np
import numpy.lib.mixins
import pytest

import tfcore
from tfcore import devices
from tfcore.devices.device import Device
from tfcore.framework.registry import get_op_def
from tfcore.ops import conv_fast

TEST_KIND = "TEST"


# --- the test device's arrays: NumPy memory with CuPy's rules ----------------------------------


class StrictArray(numpy.lib.mixins.NDArrayOperatorsMixin):
    """An array of the test device: NumPy memory that, like a CuPy array, NumPy cannot read
    implicitly (`np.asarray(a)` is a TypeError) and that no operation mixes with a host array."""

    __slots__ = ("_a",)

    def __init__(self, array):
        self._a = array

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed (test device, as in CuPy)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"{ufunc.__name__}.{method}"
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o, where) for o in out)
        result = getattr(ufunc, method)(*[_unwrap(x, where) for x in inputs], **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _call(func, args, kwargs, func.__name__)

    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        self._a[_index(key)] = value if isinstance(value, numbers.Number) else _unwrap(value, "__setitem__")

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ & co.: NumPy must not see the memory
            raise AttributeError(name)
        value = getattr(self._a, name)
        if callable(value):
            return _bind(_call, value, f"ndarray.{name}")
        return _wrap(value) if name in ("T", "real", "imag") else value

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __bool__(self):
        return bool(self._a)

    def __index__(self):
        return self._a.__index__()

    def __repr__(self):
        return f"StrictArray({self._a!r})"


def _unwrap(x, where):
    """The NumPy array inside `x` (lists and tuples walked); a host array is a TypeError, as in CuPy
    (NumPy scalars and 0-d arrays pass, as Python numbers do)."""
    if isinstance(x, StrictArray):
        return x._a
    if type(x) is np.ndarray and x.ndim > 0:
        raise TypeError(f"{where}: a host (NumPy) array of shape {x.shape} where a device array is "
                        "needed (CuPy rejects this)")
    if isinstance(x, list | tuple):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x):
    """Results as device arrays (a NumPy scalar as a 0-d array, as CuPy returns them)."""
    if isinstance(x, np.ndarray | np.generic):
        return StrictArray(np.asarray(x))
    if isinstance(x, tuple | list):
        return type(x)(_wrap(v) for v in x)
    return x


def _index(key):
    """An index for the NumPy memory: device index arrays unwrapped (host index arrays allowed)."""
    if isinstance(key, tuple):
        return tuple(k._a if isinstance(k, StrictArray) else k for k in key)
    return key._a if isinstance(key, StrictArray) else key


def _call(fn, args, kwargs, where):
    out = kwargs.get("out")
    result = fn(*_unwrap(list(args), where), **{k: _unwrap(v, where) for k, v in kwargs.items()})
    return out if out is not None else _wrap(result)


def _from_host(fn, args, kwargs, where):
    """`asarray` and the like: host data becomes a device array (as cupy.asarray copies it over)."""
    plain = [a._a if isinstance(a, StrictArray) else a for a in args]
    return _wrap(fn(*plain, **kwargs))


class _StrictUfunc:
    """A NumPy ufunc (and its methods, e.g. `add.at`) on device arrays only."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs, self.__name__)

    def __getattr__(self, name):
        attr = getattr(self._ufunc, name)
        return _bind(_call, attr, f"{self.__name__}.{name}") if callable(attr) else attr


class StrictNumPy(types.ModuleType):
    """The test device's array module `xp`: NumPy's functions, taking and giving StrictArrays."""

    ndarray = StrictArray
    _FROM_HOST = frozenset({"asarray", "array", "ascontiguousarray", "asanyarray"})

    def __init__(self, base=np, name="strict_numpy"):
        super().__init__(name)
        self._base = base

    def __getattr__(self, name):
        value = getattr(self._base, name)
        if isinstance(value, np.ufunc):
            wrapped = _StrictUfunc(value)
        elif isinstance(value, types.ModuleType):
            wrapped = StrictNumPy(value, f"{self.__name__}.{name}")
        elif isinstance(value, type) or not callable(value):
            wrapped = value  # dtypes, constants, classes (finfo, errstate)
        elif name in self._FROM_HOST:
            wrapped = _bind(_from_host, value, name)
        else:
            wrapped = _bind(_call, value, name)
        setattr(self, name, wrapped)
        return wrapped


def _bind(caller, fn, name):
    def function(*args, **kwargs):
        return caller(fn, args, kwargs, name)
    function.__name__ = name
    return function


class PlacementTestDevice(Device):
    """A second device kind for tests only: StrictArrays (NumPy memory with CuPy's rules), and
    "transfers" that are NumPy copies.

    It is an accelerator (shape-like arguments stay on the host) so that the plan treats it as it
    treats a GPU; counting calls of `tfcore.devices.copy` shows where the plan crosses devices, and a
    kernel that hands a device array to NumPy or mixes it with a host array fails as on CuPy.
    """

    kind = TEST_KIND
    xp = StrictNumPy()
    is_host = False
    accelerator = True

    def __init__(self, index):
        self.index = index

    def holds(self, value):
        return isinstance(value, StrictArray)

    def to_host(self, array):
        return np.array(array._a, copy=True)

    def from_host(self, array):
        return StrictArray(np.array(array, copy=True))


def _test_device_factory(index):
    if index != 0:
        raise devices.DeviceUnavailable(f"the placement test device has one unit (TEST:0), not TEST:{index}")
    return PlacementTestDevice(index)


if not devices.available(f"/device:{TEST_KIND}:0"):
    devices.register_kind(TEST_KIND, _test_device_factory)  # tests only: never registered by the product

# The fast convolution and pooling kernels run on TEST as they run on the GPU, so that the op tables
# check them against CuPy's rules there (test_reference_kernels.py runs the reference kernels on TEST).
if TEST_KIND not in get_op_def("Conv2D").fast_kernels:
    conv_fast.register(TEST_KIND)


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
