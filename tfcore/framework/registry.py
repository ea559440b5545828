"""The op registry: one entry per op type, holding its shape function, its kernel and its gradient.

An op block in `tfcore/ops/<family>.py` registers all three side by side:

    register_op("Square", shape=same_shape, kernel=lambda xp, x: x * x)

    @register_gradient("Square")
    def _SquareGrad(op, grad):
        "d(x^2)/dx = 2x."
        return grad * 2.0 * op.inputs[0]

Registering a type twice is an error that points at the first registration, so two files cannot
silently fight over one op.
"""

import os
import sys

# Registrations are recorded relative to the folder holding the tfcore package ("tfcore/ops/...").
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OpDef:
    """What the engine knows about one op type.

    shape:  ``shape(inputs, **attrs) -> [(TensorShape, DType), ...]``, one pair per output; it sees
            the input Tensors (static shapes and dtypes) and raises ValueError on bad input.
    kernel: ``kernel(xp, *arrays, **attrs)`` returning one array or a tuple of them; ``xp`` is the
            array module (numpy or cupy). A stateful kernel gets the run context instead of ``xp``
            (``ctx.xp`` is the array module; ``ctx.store`` the session's variable values).
    ref_inputs: input positions that receive a variable *reference* (a `VariableRef`), not a value.
    reuses_inputs: input positions whose array an elementwise kernel may write its result into: when
            such an input dies at this op and nothing else refers to it, the plan calls
            ``kernel(xp, *arrays, out=that_array)`` (the kernel passes `out` on to its ufunc).
    device_kernels: device kind ("GPU") -> a kernel for that kind only, with the same signature,
            registered with `register_kernel` where the shared `xp` kernel does not serve the device
            well; every other device runs `kernel`.
    """

    def __init__(self, type, shape, kernel, stateful=False, ref_inputs=(), reuses_inputs=(), where=""):
        self.type = type
        self.shape = shape
        self.kernel = kernel
        self.stateful = stateful
        self.ref_inputs = tuple(ref_inputs)
        self.reuses_inputs = tuple(reuses_inputs)
        self.where = where
        self.device_kernels = {}

    def kernel_for(self, device_kind):
        """The kernel that runs this op on a device of `device_kind`."""
        return self.device_kernels.get(device_kind, self.kernel)

    def __repr__(self):
        return f"OpDef({self.type!r}, registered at {self.where})"


_OPS = {}
_GRADIENTS = {}  # type -> (function or None for "not differentiable", where)


def _caller(depth=2):
    """"file:line" of the code `depth` frames up (the registration site), for error messages."""
    frame = sys._getframe(depth)
    path = os.path.abspath(frame.f_code.co_filename)
    if path.startswith(_ROOT + os.sep):
        path = path[len(_ROOT) + 1:]
    return f"{path}:{frame.f_lineno}"


def register_op(type, shape, kernel, stateful=False, ref_inputs=(), reuses_inputs=()):
    """Register op `type` with its shape function and kernel; a second registration is an error."""
    if type in _OPS:
        raise KeyError(f"Registering two ops with name '{type}'! "
                       f"(Previous registration was in {_OPS[type].where})")
    op_def = OpDef(type, shape, kernel, stateful=stateful, ref_inputs=ref_inputs, reuses_inputs=reuses_inputs,
                   where=_caller())
    _OPS[type] = op_def
    return op_def


def register_kernel(type, device_kind, kernel):
    """Register a device-specific kernel for op `type` on devices of `device_kind` ("GPU"): same
    signature as the op's shared kernel. A second one for the same op and kind is an error."""
    op_def = get_op_def(type)
    device_kind = device_kind.upper()
    if device_kind in op_def.device_kernels:
        raise KeyError(f"Registering two {device_kind} kernels for op '{type}'!")
    op_def.device_kernels[device_kind] = kernel
    return kernel


def get_op_def(type):
    """The OpDef registered for `type`; KeyError naming the type when there is none."""
    try:
        return _OPS[type]
    except KeyError:
        raise KeyError(f"No op registered for type '{type}'.") from None


def registered_ops():
    """All registered op types, sorted."""
    return sorted(_OPS)


class RegisterGradient:
    """Decorator: ``@RegisterGradient("MatMul")`` registers ``fn(op, *grads) -> input grads``."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        if self._op_type in _GRADIENTS:
            raise KeyError(f"Registering two gradient with name '{self._op_type}'! "
                           f"(Previous registration was in {_GRADIENTS[self._op_type][1]})")
        _GRADIENTS[self._op_type] = (fn, _caller())
        return fn


register_gradient = RegisterGradient


def NotDifferentiable(op_type):  # noqa: N802 - TF's name
    """Declare that `op_type` has no gradient (its inputs receive None)."""
    if op_type in _GRADIENTS:
        raise KeyError(f"Registering two gradient with name '{op_type}'! "
                       f"(Previous registration was in {_GRADIENTS[op_type][1]})")
    _GRADIENTS[op_type] = (None, _caller())


no_gradient = NotDifferentiable


def get_gradient_function(op):
    """The gradient function for `op` (the one `gradient_override_map` named for it, else its type's),
    None if declared not differentiable, LookupError if missing."""
    op_type = getattr(op, "_gradient_op_type", None) or op.type
    if op_type not in _GRADIENTS:
        raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op_type})")
    return _GRADIENTS[op_type][0]


class _Dead:
    """The value of a tensor in the untaken branch of a `cond` (see tfcore/client/plan.py)."""

    __slots__ = ()

    def __repr__(self):
        return "DEAD"


DEAD = _Dead()
