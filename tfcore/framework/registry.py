"""The op registry: one entry per op type, holding its shape function, its kernel and its gradient.

An op block in `tfcore/ops/<family>.py` registers all three side by side:

    register_op("Square", shape=same_shape, kernel=lambda ctx, x: ctx.xp.multiply(x, x))

    @register_gradient("Square")
    def _SquareGrad(op, grad):
        "d(x^2)/dx = 2x."
        return grad * 2.0 * op.inputs[0]

Registering a type twice is an error that points at the first registration, so two files cannot
silently fight over one op.
"""

import os
import sys

import numpy as np

# Registrations are recorded relative to the folder holding the tfcore package ("tfcore/ops/...").
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OpDef:
    """Everything the engine knows about one op type, given where the op's block registers it.

    shape:  ``shape(inputs, **attrs) -> [(TensorShape, DType), ...]``, one pair per output; it sees
            the input Tensors (static shapes and dtypes) and raises ValueError on bad input.
    kernel: ``kernel(ctx, *arrays, **attrs)`` returning one array or a tuple of them; `ctx` is the
            `KernelContext` (``ctx.xp`` the array module, numpy or cupy; ``ctx.out`` an array the
            result may be written into, or None). This is the op's reference kernel.
    ref_inputs: input positions that receive a variable *reference* (``read()``, ``write(value)``,
            ``initialized``), not a value: the op reads or updates the variable itself.
    reuses_inputs: input positions whose array the kernel may overwrite with its result: when such
            an input dies at this op, the plan passes it as ``ctx.out`` (the kernel hands it to its
            ufunc's `out=`).
    forwards_inputs: the input positions (True: every input) whose array an output may be, or be a
            view of (Identity, Reshape, ...): the plan lets no kernel overwrite one of them while
            the other is still needed.
    host_memory: input positions a kernel on an accelerator reads from host memory (shape-like
            int32 arguments the kernel turns into Python ints).
    host_only: the kernel runs on the CPU whatever device was asked (the random ops draw on the
            host so that one seed gives the same numbers on every device).
    metadata_only: the kernel reads only its inputs' shapes: they stay where they are and the
            outputs are host arrays.
    fold: ``fold(op, known) -> value or None``, what the op's output is at build time given
            ``known(tensor)`` for its inputs (see `tfcore/framework/constant_folding.py`).
    variable: the op holds a variable; it computes nothing and its readers read the variable's
            value from the session when they run.
    constant: the output depends on attributes alone, so the plan computes it once per device.
    branch: "switch" or "merge" for the two ops `cond` is made of (see `tfcore/client/plan.py`).
    device_kernels: device kind ("GPU") -> a kernel for that kind only, with the same signature
            (`register_kernel`); fast_kernels: device kind -> a kernel that gives the reference
            kernel's results faster (`register_fast_kernel`), skipped when a session asks for
            reference kernels only.
    """

    def __init__(self, type, shape, kernel, where="", **facts):
        unknown = set(facts) - set(_FACTS)
        if unknown:
            raise TypeError(f"register_op('{type}'): unknown op facts {sorted(unknown)}")
        self.type = type
        self.shape = shape
        self.kernel = kernel
        self.where = where
        for name, default in _FACTS.items():
            value = facts.get(name, default)
            setattr(self, name, tuple(value) if isinstance(default, tuple) else value)
        self.device_kernels = {}
        self.fast_kernels = {}

    def kernel_for(self, device_kind, reference=False):
        """The kernel that runs this op on a device of `device_kind`: its fast kernel there unless
        `reference`, else its kernel for that kind, else the reference kernel."""
        if not reference and device_kind in self.fast_kernels:
            return self.fast_kernels[device_kind]
        return self.device_kernels.get(device_kind, self.kernel)

    def __repr__(self):
        return f"OpDef({self.type!r}, registered at {self.where})"


# The facts `register_op` accepts besides shape and kernel, with their defaults.
_FACTS = {"ref_inputs": (), "reuses_inputs": (), "forwards_inputs": False, "host_memory": (),
          "host_only": False, "metadata_only": False, "fold": None, "variable": False,
          "constant": False, "branch": None}


class KernelContext:
    """What a kernel receives first: ``xp`` (the array module of the device it runs on), ``out`` (an
    input array the result may be written into, or None), ``op`` (the running Operation), the
    session's per-op random state (`random_generator`) and `map`, which runs the independent pieces
    of a kernel's work (on the session's threads where it has several: `runner`)."""

    __slots__ = ("xp", "out", "op", "random_state", "runner")

    def __init__(self, xp, op=None, random_state=None, runner=None):
        self.xp = xp
        self.out = None
        self.op = op
        self.random_state = {} if random_state is None else random_state
        self.runner = runner

    def map(self, work, pieces):
        """``[work(piece) for piece in pieces]``, in that order. The pieces must not write the same
        memory; the session may run them at the same time, each on one BLAS thread."""
        if self.runner is None or len(pieces) < 2:
            return [work(piece) for piece in pieces]
        return self.runner(work, pieces)

    def random_generator(self, seed, seed2):
        """The session's random generator for the running op (it advances across runs, as in TF)."""
        key = self.op.name
        if key not in self.random_state:
            entropy = None if seed is None and seed2 is None else [int(seed or 0), int(seed2 or 0)]
            self.random_state[key] = np.random.default_rng(entropy)
        return self.random_state[key]


_OPS = {}
_GRADIENTS = {}  # type -> (function or None for "not differentiable", where)


def _caller(depth=2):
    """"file:line" of the code `depth` frames up (the registration site), for error messages."""
    frame = sys._getframe(depth)
    path = os.path.abspath(frame.f_code.co_filename)
    if path.startswith(_ROOT + os.sep):
        path = path[len(_ROOT) + 1:]
    return f"{path}:{frame.f_lineno}"


def register_op(type, shape, kernel, **facts):
    """Register op `type` with its shape function, reference kernel and facts (the keywords of
    `OpDef`); a second registration of a type is an error."""
    if type in _OPS:
        raise KeyError(f"Registering two ops with name '{type}'! "
                       f"(Previous registration was in {_OPS[type].where})")
    op_def = OpDef(type, shape, kernel, where=_caller(), **facts)
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


def register_fast_kernel(type, device_kind, kernel):
    """Register a kernel for op `type` on devices of `device_kind` that gives the results of the
    reference kernel faster (it is tested against it); a second one is an error."""
    op_def = get_op_def(type)
    device_kind = device_kind.upper()
    if device_kind in op_def.fast_kernels:
        raise KeyError(f"Registering two fast {device_kind} kernels for op '{type}'!")
    op_def.fast_kernels[device_kind] = kernel
    return kernel


_FUSIONS = {}  # (device kind, first op type) -> [(op types, kernel), ...], longest chain first


def register_fusion(types, device_kind, kernel):
    """Register `kernel` as doing the work of a chain of ops in one pass, on devices of `device_kind`.

    `types` names the chain ("Conv2D", "BiasAdd", "Relu"): each op's first input is the output of the
    op before it, which nothing else reads. The plan runs such a chain as one step (unless the
    session runs reference kernels) calling ``kernel(ctx, *inputs, attrs=(attrs of each op))``,
    where `inputs` are the first op's inputs followed by the other inputs of each later op.
    """
    for t in types:
        get_op_def(t)
    chains = _FUSIONS.setdefault((device_kind.upper(), types[0]), [])
    if any(existing == tuple(types) for existing, _ in chains):
        raise KeyError(f"Registering two {device_kind} fusions of {'+'.join(types)}!")
    chains.append((tuple(types), kernel))
    chains.sort(key=lambda chain: -len(chain[0]))
    return kernel


def fusions_from(device_kind, type):
    """The fusions (op types, kernel) whose chain starts with op `type` on `device_kind`, longest first."""
    return _FUSIONS.get((device_kind, type), ())


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
