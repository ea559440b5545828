"""`Session` and `InteractiveSession`: run parts of a graph, keeping variable values between runs."""

import contextlib

import numpy as np

from tfcore import devices
from tfcore.client.fetches import FetchMapper
from tfcore.client.plan import Plan
from tfcore.client.scheduler import Scheduler
from tfcore.client.session_state import SessionState
from tfcore.devices.placement import Placer
from tfcore.framework import dtypes
from tfcore.framework.graph import Tensor, get_default_graph
from tfcore.framework.tensor import _default_session_stack


class GPUOptions:
    """Accepted for compatibility: `allow_growth`, `per_process_gpu_memory_fraction`, ..."""

    def __init__(self, allow_growth=False, per_process_gpu_memory_fraction=0.0, visible_device_list=""):
        self.allow_growth = allow_growth
        self.per_process_gpu_memory_fraction = per_process_gpu_memory_fraction
        self.visible_device_list = visible_device_list


class ConfigProto:
    """Session configuration: placement switches, threads and (accepted) GPU options.

    intra_op_parallelism_threads / inter_op_parallelism_threads: threads for the pieces of one op
        and for independent ops (0, the default: one per CPU this process may use; 1 and 1: the
        serial engine). See tfcore/client/scheduler.py.
    allow_soft_placement: an op asking for a device that is not there (no CuPy, no GPU) or that has
        no kernel for it runs on the CPU, with one log line per plan, instead of failing.
    log_device_placement: print each op's device when a plan is compiled, as TF does
        ("MatMul: (MatMul): /job:localhost/replica:0/task:0/device:GPU:0"), on stderr.
    device_count: {"GPU": 0} hides the GPUs from the session (ops asking for one fail, or with soft
        placement run on the CPU).
    reference_kernels: (tfcore's own) run every op's reference kernel, the direct one in its op
        block, never a kernel registered for speed; the results agree to float32 rounding.
    """

    def __init__(self, allow_soft_placement=False, log_device_placement=False, gpu_options=None,
                 device_count=None, intra_op_parallelism_threads=0, inter_op_parallelism_threads=0,
                 reference_kernels=False, **kwargs):
        self.allow_soft_placement = allow_soft_placement
        self.reference_kernels = reference_kernels
        self.log_device_placement = log_device_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.device_count = dict(device_count or {})
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        for k, v in kwargs.items():
            setattr(self, k, v)


class RunOptions:
    """Per-run options; `trace_level=RunOptions.FULL_TRACE` records per-op timings."""

    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3

    def __init__(self, trace_level=0, timeout_in_ms=0, **kwargs):
        self.trace_level = trace_level
        self.timeout_in_ms = timeout_in_ms


class NodeExecStats:
    """Timing of one op in one traced run (microseconds, as TF's step stats)."""

    def __init__(self, node_name, op_type, all_start_micros, all_end_rel_micros):
        self.node_name = node_name
        self.op_type = op_type
        self.timeline_label = f"{node_name} = {op_type}()"
        self.all_start_micros = all_start_micros
        self.op_start_rel_micros = 0
        self.op_end_rel_micros = all_end_rel_micros
        self.all_end_rel_micros = all_end_rel_micros


class DeviceStepStats:
    def __init__(self, device, node_stats):
        self.device = device
        self.node_stats = node_stats


class StepStats:
    def __init__(self):
        self.dev_stats = []


class RunMetadata:
    """Filled by a traced run: `step_stats.dev_stats[i].node_stats` hold per-op timings."""

    def __init__(self):
        self.step_stats = StepStats()
        self.partition_graphs = []
        self.cost_graph = None


class BaseSession:
    """Runs fetches against one graph; holds that session's variable values."""

    def __init__(self, target="", graph=None, config=None):
        self._graph = graph if graph is not None else get_default_graph()
        self._config = config or ConfigProto()
        self._closed = False
        self._scheduler = Scheduler(self._config.intra_op_parallelism_threads,
                                    self._config.inter_op_parallelism_threads)
        self._state = SessionState(reference_kernels=self._config.reference_kernels,
                                   runner=self._scheduler.runner)
        self._plans = {}
        self._context_managers = []
        self._placer = Placer(allow_soft_placement=bool(self._config.allow_soft_placement),
                              log_device_placement=bool(self._config.log_device_placement),
                              device_count=getattr(self._config, "device_count", None))

    graph = property(lambda self: self._graph)
    threads = property(lambda self: self._scheduler.threads, doc="(tfcore's own) the thread counts: "
                       "intra_op, inter_op, and BLAS threads per piece of work")
    graph_def = property(lambda self: self._graph.as_graph_def())
    sess_str = property(lambda self: "")

    def as_default(self):
        """Make this the default session (for `Tensor.eval` and `Operation.run`) inside `with`."""
        return _session_as_default(self)

    def list_devices(self):
        """The devices ops can run on here (full names): the CPU, and each GPU where CuPy sees one."""
        return devices.list_devices()

    def close(self):
        """Release the session's state; using it afterwards raises RuntimeError."""
        self._closed = True
        self._state = SessionState(reference_kernels=self._state.reference_kernels,
                                   runner=self._scheduler.runner)
        self._plans = {}

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Compute `fetches` (a graph element or a nested list/tuple/dict of them).

        `feed_dict` maps tensors (or their names, e.g. "x-input:0") to values that replace them.
        Returns the fetched values in the same structure; fetched ops give None.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._graph.version == 0:
            raise RuntimeError("The Session graph is empty. Add operations to the graph before calling "
                               "run().")
        mapper = FetchMapper(self._graph, fetches)
        feed_tensors, feed_values = self._prepare_feeds(feed_dict)
        key = (tuple(mapper.unique), tuple(feed_tensors), self._graph.version)
        plan = self._plans.get(key)
        if plan is None:
            plan = Plan(self._graph, mapper.unique, feed_tensors, placer=self._placer, state=self._state)
            self._plans[key] = plan
        trace = [] if options is not None and getattr(options, "trace_level", 0) else None
        values = plan.execute(feed_values, trace, self._scheduler)
        if trace is not None and run_metadata is not None:
            _fill_metadata(run_metadata, trace, plan.devices())
        return mapper.build([_to_output(v) for v in values])

    def _prepare_feeds(self, feed_dict):
        if not feed_dict:
            return [], []
        tensors, values = [], []
        for key, value in feed_dict.items():
            if hasattr(key, "_as_graph_element") and not isinstance(key, Tensor):
                key = key._as_graph_element()
            try:
                tensor = self._graph.as_graph_element(key, allow_operation=False)
            except (ValueError, KeyError, TypeError) as e:
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
            if not isinstance(tensor, Tensor):
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {key!r} is not a Tensor.")
            tensors.append(tensor)
            values.append(_check_feed(tensor, value))
        return tensors, values

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function running `fetches` with positional feeds for `feed_list`."""
        feed_list = list(feed_list or [])

        def call(*args):
            return self.run(fetches, feed_dict=dict(zip(feed_list, args)))
        return call

    # --- context manager ------------------------------------------------------------------------
    def __enter__(self):
        graph_cm = self._graph.as_default()
        session_cm = self.as_default()
        graph_cm.__enter__()
        session_cm.__enter__()
        self._context_managers.append((graph_cm, session_cm))
        return self

    def __exit__(self, exc_type, exc, tb):
        graph_cm, session_cm = self._context_managers.pop()
        session_cm.__exit__(exc_type, exc, tb)
        graph_cm.__exit__(exc_type, exc, tb)
        self.close()
        return False


class Session(BaseSession):
    """A TF1 session: `with tf.Session() as sess: sess.run(...)`."""


class InteractiveSession(BaseSession):
    """A session that installs itself (and its graph) as the default on creation, for notebooks."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._graph_cm = self._graph.as_default()
        self._graph_cm.__enter__()
        _default_session_stack.stack.append(self)

    def close(self):
        if not self._closed:
            if self in _default_session_stack.stack:
                _default_session_stack.stack.remove(self)
            try:
                self._graph_cm.__exit__(None, None, None)
            except (IndexError, RuntimeError):
                pass
        super().close()


@contextlib.contextmanager
def _session_as_default(session):
    _default_session_stack.stack.append(session)
    try:
        yield session
    finally:
        _default_session_stack.stack.remove(session)


def _check_feed(tensor, value):
    """Convert a feed value to the tensor's dtype and check its shape, naming the tensor on error."""
    if isinstance(value, Tensor):
        raise TypeError(f"The value of a feed cannot be a tf.Tensor object. Acceptable feed values "
                        f"include Python scalars, strings, lists, numpy ndarrays. (feeding {tensor.name})")
    dtype = tensor.dtype.base_dtype
    target = dtype.as_numpy_dtype
    if (type(value) is np.ndarray and value.dtype == target and dtype != dtypes.string
            and _fits(tensor.shape, value.shape)):
        return value  # the usual feed: nothing to convert, nothing more to check
    try:
        raw = np.asarray(value)
        if dtype.is_integer or dtype.is_bool:
            if raw.dtype.kind == "f" and np.any(raw != np.round(raw)):
                raise TypeError(f"cannot feed non-integer values of dtype {raw.dtype}")
        if raw.dtype.kind in "USO" and not dtype == "string":
            raise TypeError(f"cannot feed strings (dtype {raw.dtype})")
        array = np.asarray(raw, dtype=target) if dtype != "string" else dtypes.string_array(raw, tensor.name)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot feed value for Tensor {tensor.name}, which has dtype "
                         f"{dtype.name}: {e}") from None
    if not tensor.shape.is_compatible_with(array.shape):
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor {tensor.name}, "
                         f"which has shape {tensor.shape}")
    return array


def _fits(static_shape, shape):
    """True when an array of `shape` may be fed for a tensor of `static_shape` (None: any size)."""
    if static_shape.ndims is None:
        return True
    return len(shape) == static_shape.ndims and all(
        known is None or known == size for known, size in zip(static_shape.as_list(), shape))


def _to_output(value):
    # Fetched values are host arrays: the plan copies a device's values back (tfcore.devices.copy).
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    if isinstance(value, np.ndarray) and value.flags.writeable is False:
        return value.copy()
    return value


def _fill_metadata(run_metadata, trace, placed):
    """One DeviceStepStats per device, in order of first use (the CPU's first); copies are listed
    under their target device. (Kernels on a GPU run asynchronously: their times are launch times.)"""
    start0 = trace[0][1] if trace else 0.0
    by_device = {devices.CPU: []}
    for op, s, e in trace:
        device = placed.get(op) or devices.lookup(op.device)
        by_device.setdefault(device, []).append(
            NodeExecStats(op.name, op.type, int((s - start0) * 1e6), int((e - s) * 1e6)))
    run_metadata.step_stats.dev_stats = [
        DeviceStepStats(devices.full_name(d), stats) for d, stats in by_device.items() if stats or d.is_host]

