"""Placement: which device each op of a plan runs on, and which of its arguments stay on the host.

The rules, applied when a plan is compiled (`Placer.place`):
  1. an op runs where its stamp (``with tf.device(...)``) says; no stamp means the CPU;
  2. an op that takes a variable by reference (Assign, the optimizers' Apply ops, ...) runs where
     that variable lives, as TF colocates them;
  3. ops registered `host_only` run on the CPU whatever was asked: the random ops draw from
     NumPy's generator on the host, so one seed gives the same numbers on every device (the plan
     copies the draws);
  4. on an accelerator, an op whose inputs and outputs are all int32 runs on the host (shape
     arithmetic; TF keeps int32 tensors of GPU kernels in host memory too);
  5. an op with a string input or output has no kernel on an accelerator: an error, or the CPU
     with `allow_soft_placement`;
  6. a device that is not there (no CuPy, no GPU, GPU:3 of one, or hidden by the ConfigProto's
     `device_count`) is an error naming the op and why, or, with `allow_soft_placement`, the CPU and
     one log line per plan.

On an accelerator, an op's `host_memory` inputs (shape-like int32 arguments that kernels read into
Python ints) stay on the host, so no kernel waits for a device-to-host copy of a shape;
`metadata_only` ops read only their inputs' shapes, so their inputs stay where they are and their
outputs are host arrays. (These are facts of each op's `register_op`.)
"""

import sys

from tfcore import devices
from tfcore.devices.cpu import CPU
from tfcore.devices.device import DeviceUnavailable
from tfcore.framework import dtypes, errors
from tfcore.platform import tf_logging


def _has_string(op):
    return any(t.dtype.base_dtype == dtypes.string for t in list(op.inputs) + list(op.outputs))


def _all_int32(op):
    tensors = list(op.inputs) + list(op.outputs)
    return bool(op.outputs) and all(t.dtype.base_dtype == dtypes.int32 for t in tensors)


class Placer:
    """Places the ops of one session's plans, following the session's ConfigProto."""

    def __init__(self, allow_soft_placement=False, log_device_placement=False, device_count=None,
                 stream=None):
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        # ConfigProto(device_count={"GPU": 0}) hides devices of a kind from the session, as in TF
        self.device_count = {kind.upper(): int(n) for kind, n in (device_count or {}).items()}
        self.stream = stream
        self._logged = set()  # ops whose placement was printed already (once per session, as TF)

    def place(self, order, ref_inputs):
        """A dict op -> Device for the ops in `order` (topological); `ref_inputs(op)` gives the
        positions where `op` takes a variable by reference."""
        if not any(op.device for op in order):  # nothing stamped: everything on the CPU
            placed = dict.fromkeys(order, CPU)
        else:
            placed, fallbacks = {}, {}
            for op in order:
                placed[op] = self._place_one(op, placed, ref_inputs(op), fallbacks)
            for requested, (reason, names) in fallbacks.items():
                shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
                tf_logging.warning(
                    f"allow_soft_placement: {len(names)} op(s) asked for {requested} run on "
                    f"/device:CPU:0 instead ({reason}): {shown}")
        if self.log_device_placement:
            self._log(order, placed)
        return placed

    def _place_one(self, op, placed, ref_positions, fallbacks):
        for i in ref_positions:
            producer = op.inputs[i].op
            if producer in placed:  # colocate with the variable it updates
                return placed[producer]
        if op.device == "":
            return CPU
        try:
            device = devices.lookup(op.device)
        except (DeviceUnavailable, ValueError) as e:
            return self._unavailable(op, str(e), fallbacks)
        allowed = self.device_count.get(device.kind)
        if allowed is not None and device.index >= allowed and not device.is_host:
            hidden = f"the session's ConfigProto(device_count={{'{device.kind}': {allowed}}}) hides it"
            return self._unavailable(op, hidden, fallbacks)
        op_def = op.op_def
        if device.is_host or op_def.variable:
            return device
        if op_def.host_only or _all_int32(op):
            return CPU
        if _has_string(op):
            return self._unavailable(op, f"no {device.kind} kernel for {op.type} with string tensors",
                                     fallbacks)
        return device

    def _unavailable(self, op, reason, fallbacks):
        if self.allow_soft_placement:
            fallbacks.setdefault(op.device, (reason, []))[1].append(op.name)
            return CPU
        raise errors.InvalidArgumentError(
            None, op,
            f"Cannot assign a device for operation {op.name} ({op.type}): Could not satisfy explicit device "
            f"specification '{op.device}' because {reason}. Available devices: "
            f"{', '.join(devices.list_devices())}. (With ConfigProto(allow_soft_placement=True) "
            f"such ops run on the CPU.)")

    def _log(self, order, placed):
        stream = self.stream or sys.stderr
        lines = [f"{op.name}: ({op.type}): {devices.full_name(placed[op])}"
                 for op in order if op not in self._logged]
        self._logged.update(order)
        if lines:
            print("\n".join(lines), file=stream, flush=True)


def input_device(op, position, device):
    """Where input `position` of `op`, run on `device`, must be: a Device, or None for anywhere."""
    if device.accelerator:
        if op.op_def.metadata_only:
            return None
        if position in op.op_def.host_memory:
            return CPU
    return device


def output_device(op, device):
    """Where the outputs of `op`, run on `device`, are."""
    return CPU if op.op_def.metadata_only else device


def kernel_module(op, device):
    """The array module the kernel of `op` gets on `device` (NumPy for metadata ops: host outputs)."""
    return CPU.xp if op.op_def.metadata_only else device.xp
