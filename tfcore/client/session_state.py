"""What one `Session` keeps between runs: its variables' values, its random state and its settings.

Variables have TF1 reference semantics: the values live here, one per variable op name, each on the
device its variable was placed on; a kernel that takes a variable by reference gets a `VariableRef`.
"""

from tfcore import devices
from tfcore.devices.cpu import CPU
from tfcore.framework import errors


class VariableRef:
    """What a kernel receives for a ref input: the name of a variable and the values holding it."""

    __slots__ = ("name", "variables")

    def __init__(self, name, variables):
        self.name = name
        self.variables = variables

    def read(self):
        """The variable's current value (FailedPreconditionError when it is not initialized)."""
        return self.variables.read(self.name)

    def write(self, value):
        """Set the variable's value to `value`, a kernel's result (already on the variable's device)."""
        self.variables.write(self.name, value)

    @property
    def initialized(self):
        return self.name in self.variables.values


class _Values(dict):
    """Variable values by name; a value set from outside a kernel (`SessionVariables.load`) is moved
    to the variable's device. (Kernels write through `VariableRef.write`, on the right device.)"""

    __slots__ = ("devices",)

    def __init__(self):
        super().__init__()
        self.devices = {}  # name -> Device, for variables placed off the CPU

    def __setitem__(self, name, value):
        device = self.devices.get(name)
        if device is not None and not device.holds(value):
            value = devices.copy(value, device, devices.holder(value))
        dict.__setitem__(self, name, value)


class SessionVariables:
    """The values of one session's variables, keyed by variable op name, each on its device."""

    def __init__(self):
        self.values = _Values()

    def place(self, name, device):
        """Variable `name` lives on `device` (a plan placed it there): move a value already held."""
        values = self.values
        if device.is_host:
            if name in values.devices:
                del values.devices[name]
                if name in values:
                    value = values[name]
                    dict.__setitem__(values, name, devices.copy(value, CPU, devices.holder(value)))
            return
        values.devices[name] = device
        if name in values:
            values[name] = values[name]  # moved by _Values.__setitem__ when held elsewhere

    def read(self, name):
        """The value of variable `name`; FailedPreconditionError naming it when uninitialized."""
        try:
            return self.values[name]
        except KeyError:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {name}\n\t [[{{{{node {name}}}}}]]"
            ) from None

    def write(self, name, value):
        """Store a kernel's result as the value of `name` (it is on the variable's device)."""
        dict.__setitem__(self.values, name, value)

    def load(self, name, value):
        """Set the value of `name` from outside a run, moving it to the variable's device."""
        self.values[name] = value


class SessionState:
    """One session's state shared by its plans.

    variables: the `SessionVariables`; random_state: op name -> its random generator (a new session
    starts every sequence again, as in TF); constants: (Const op, device) -> its value copied to that
    device once; reference_kernels: run every op's reference kernel, never a fast one; runner: what
    `KernelContext.map` runs a kernel's pieces with on the CPU (the scheduler's `map`; None: in turn).
    """

    def __init__(self, reference_kernels=False, runner=None):
        self.variables = SessionVariables()
        self.random_state = {}
        self.constants = {}
        self.reference_kernels = bool(reference_kernels)
        self.runner = runner
