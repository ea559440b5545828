"""Devices: where kernels run, the array module each device gives them, and the ONE copy function.

A device is an object with an array module ``xp`` (NumPy on the CPU, CuPy on a GPU) that kernels
are written against, and two transfer primitives (``to_host``/``from_host``) that only `copy` calls:

    devices.lookup("/device:GPU:0")      # the GPU device, or DeviceUnavailable saying why not
    devices.copy(array, devices.CPU)     # the one place where arrays move between devices

Device names are TensorFlow's: ``tf.device("/gpu:0")`` stamps ops with ``/device:GPU:0`` (see
`tfcore/framework/device_spec.py`), and placement logs name ``/job:localhost/replica:0/task:0/device:GPU:0``.

Kinds: ``CPU`` (always there) and ``GPU`` (CuPy, imported only when a GPU is asked for; see
`tfcore/devices/gpu.py`). `register_kind` adds another kind; the test suite uses it for a
NumPy-backed test device that checks where the plan inserts copies (it exists only to test
placement, never in the product).
"""

from tfcore.devices.cpu import CPU, CPUDevice
from tfcore.devices.device import Device, DeviceUnavailable
from tfcore.framework.device_spec import DeviceSpec, canonical, parse

__all__ = ["CPU", "CPUDevice", "Device", "DeviceUnavailable", "DeviceSpec", "available", "canonical",
           "copy", "full_name", "gpu_unavailable_reason", "holder", "list_devices", "lookup", "parse",
           "register_kind", "unregister_kind"]

# kind -> factory(index) returning a Device or raising DeviceUnavailable
_KINDS = {}
_INSTANCES = {}  # (kind, index) -> Device


def _gpu_factory(index):
    from tfcore.devices import gpu
    return gpu.GPUDevice.open(index)


def register_kind(kind, factory):
    """Add device kind `kind` (upper case, e.g. "GPU"): `factory(index)` returns its Device or raises
    DeviceUnavailable with the reason. A kind registered twice is an error."""
    kind = kind.upper()
    if kind in _KINDS:
        raise KeyError(f"Device kind {kind!r} is already registered.")
    _KINDS[kind] = factory


def unregister_kind(kind):
    """Remove a kind added with `register_kind` (and forget its devices)."""
    kind = kind.upper()
    _KINDS.pop(kind, None)
    for key in [k for k in _INSTANCES if k[0] == kind]:
        del _INSTANCES[key]


register_kind("CPU", lambda index: CPU if index == 0 else _no_such_cpu(index))
register_kind("GPU", _gpu_factory)


def _no_such_cpu(index):
    raise DeviceUnavailable(f"there is one CPU device (CPU:0), not CPU:{index}")


# --- names ---------------------------------------------------------------------------------


def full_name(device):
    """The name placement logs show: "/job:localhost/replica:0/task:0/device:CPU:0"."""
    return f"/job:localhost/replica:0/task:0/device:{device.kind}:{device.index}"


# --- looking devices up -----------------------------------------------------------------------


def lookup(name):
    """The Device for a device string (default: the CPU); DeviceUnavailable saying why it is not there."""
    spec = name if isinstance(name, DeviceSpec) else parse(name)
    if spec.job not in (None, "localhost") or spec.replica not in (None, 0) or spec.task not in (None, 0):
        raise DeviceUnavailable(f"only the local process runs ops (/job:localhost/replica:0/task:0), "
                                f"not {spec.to_string()}")
    kind = spec.kind or "CPU"
    index = spec.index or 0
    key = (kind, index)
    device = _INSTANCES.get(key)
    if device is None:
        factory = _KINDS.get(kind)
        if factory is None:
            raise DeviceUnavailable(f"no device kind {kind!r} is known (known: {', '.join(sorted(_KINDS))})")
        device = _INSTANCES[key] = factory(index)
    return device


def available(name):
    """True when `lookup(name)` would give a device."""
    try:
        lookup(name)
    except DeviceUnavailable:
        return False
    return True


def gpu_unavailable_reason():
    """None when /device:GPU:0 can run ops, else why not (CuPy missing, no GPU, driver error...)."""
    try:
        lookup("/device:GPU:0")
    except DeviceUnavailable as e:
        return str(e)
    return None


def list_devices():
    """The full names of the devices ops can run on here: the CPU, then each GPU CuPy sees."""
    names = [full_name(CPU)]
    if gpu_unavailable_reason() is None:
        from tfcore.devices import gpu
        names += [full_name(lookup(f"/device:GPU:{i}")) for i in range(gpu.device_count())]
    return names


def holder(array):
    """The device holding `array`: the first device in use that holds it, else the CPU."""
    for device in list(_INSTANCES.values()):
        if not device.is_host and device.holds(array):
            return device
    return CPU


# --- the one copy function --------------------------------------------------------------------


def copy(array, device, source=None):
    """A copy of `array` (held by device `source`, default the CPU) on `device`.

    This is the only function that moves arrays between devices: the plan calls it for every edge
    that crosses devices, for feeds going to a device, for fetches coming back to the host and for
    constants going to their device (once per plan). A copy to the host is a fresh NumPy array.
    """
    source = source or CPU
    if device is CPU:
        return source.to_host(array)
    if source is CPU:
        return device.from_host(array)
    return device.from_host(source.to_host(array))
