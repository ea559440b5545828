"""Device strings as TensorFlow writes them: "/gpu:0", "/device:GPU:1", "/job:localhost/.../cpu:0".

Parsing a name needs no device: `tf.device(...)` stamps ops with the canonical string while the graph
is built, and `tfcore/devices/` looks the device up when a plan is compiled.
"""

import re


class DeviceSpec:
    """A parsed device string: job, replica, task (or None) and device kind and index (or None)."""

    __slots__ = ("job", "replica", "task", "kind", "index")

    def __init__(self, job=None, replica=None, task=None, kind=None, index=None):
        self.job, self.replica, self.task, self.kind, self.index = job, replica, task, kind, index

    def to_string(self):
        """The canonical form, e.g. "/device:GPU:0" or "/job:worker/device:CPU:0"."""
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.kind is not None:
            parts.append(f"/device:{self.kind}:{'*' if self.index is None else self.index}")
        return "".join(parts)


_FIELD = re.compile(r"^(job|replica|task):(.+)$")
_DEVICE = re.compile(r"^(?:device:)?([A-Za-z_][A-Za-z0-9_]*)(?::(\d+|\*))?$")


def parse(name):
    """Parse a TF device string ("/gpu:0", "/device:GPU:1", "GPU", "/job:localhost/.../cpu:0").

    ValueError naming the string when it is not one.
    """
    spec = DeviceSpec()
    if not name:
        return spec
    for part in name.strip().strip("/").split("/"):
        field = _FIELD.match(part)
        device = _DEVICE.match(part)
        if field and not (device and field.group(1) == "device"):
            key, value = field.groups()
            if key == "job":
                spec.job = value
            else:
                if not value.isdigit():
                    raise ValueError(f"Invalid device string {name!r}: {key} must be a number")
                setattr(spec, key, int(value))
        elif device:
            kind, index = device.groups()
            spec.kind = kind.upper()
            spec.index = 0 if index is None and not part.lower().startswith("device:") else (
                None if index in (None, "*") else int(index))
        else:
            raise ValueError(f"Invalid device string {name!r}: cannot parse {part!r}")
    return spec


def canonical(name):
    """The canonical device string ops are stamped with ("/gpu:0" -> "/device:GPU:0"; "" stays "")."""
    if name is None:
        return ""
    return parse(name).to_string()
