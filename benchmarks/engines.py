"""The engines the benchmarks compare, each loaded on first use.

- ``tfcore``: ``import tfcore``.
- ``tensorflow``: ``tensorflow.compat.v1`` in TF1 graph mode through ``course.engine.tensorflow_v1()``,
  with ``TF_ENABLE_ONEDNN_OPTS=1`` set first. The course sets it to 0 (only to silence a notice TF
  prints at import); 1 is TensorFlow's default on x86 Linux, its normal fast kernels, and what a
  student running TensorFlow would get.
- ``torch``: PyTorch on the CPU, where installed (optional; its column shows "n/a" otherwise).

Every engine runs with its own default threading unless `--threads N` is given: TensorFlow's
intra/inter-op pools and PyTorch's intra-op threads size themselves to the machine's cores; tfcore runs
one op at a time and NumPy's BLAS uses its own threads for matrix products. With `--threads N` the
worker and child processes get ``BENCH_THREADS=N`` and the usual thread variables (OpenMP, OpenBLAS,
MKL), TensorFlow sessions get ``intra_op_parallelism_threads = inter_op_parallelism_threads = N`` and
PyTorch ``torch.set_num_threads(N)``.
"""

import importlib.util
import os
import sys
import tempfile

ENGINES = ("tfcore", "tensorflow", "torch")
LABELS = {"tfcore": "tfcore", "tensorflow": "TensorFlow", "torch": "PyTorch"}
TF_ENV = {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_loaded = {}


class EngineUnavailable(Exception):
    """The engine is not installed (its column shows n/a)."""


def set_tf_environment(environ=os.environ):
    """What TensorFlow must see before its import: oneDNN on (its default), no info logs."""
    environ.update(TF_ENV)


def thread_environment(count):
    """The environment variables that give every engine `count` threads (for a child process)."""
    return {"BENCH_THREADS": str(count), **{name: str(count) for name in THREAD_VARIABLES}}


def threads():
    """The thread count asked for with --threads (None: each engine's default)."""
    value = os.environ.get("BENCH_THREADS", "").strip()
    return int(value) if value else None


def session_config(tf):
    """The `ConfigProto` for a TF1 session: None (the defaults), or `threads()` threads per pool."""
    count = threads()
    if count is None:
        return None
    return tf.ConfigProto(intra_op_parallelism_threads=count, inter_op_parallelism_threads=count)


def available(name):
    """Whether `name` can be imported here (without importing it)."""
    module = {"tfcore": "tfcore", "tensorflow": "tensorflow", "torch": "torch"}[name]
    return importlib.util.find_spec(module) is not None


def load(name):
    """The engine's module: tfcore, TF1-mode `tensorflow.compat.v1`, or torch. Raises EngineUnavailable."""
    if name in _loaded:
        return _loaded[name]
    if not available(name):
        raise EngineUnavailable(f"{name} is not installed")
    if name == "tfcore":
        import tfcore as module
    elif name == "tensorflow":
        module = _load_tensorflow()
    elif name == "torch":
        import torch as module

        if threads() is not None:
            module.set_num_threads(threads())
    else:
        raise ValueError(f"unknown engine {name!r}; use one of {ENGINES}")
    _loaded[name] = module
    return module


def _load_tensorflow():
    set_tf_environment()
    from course.engine import tensorflow_v1

    # TF's C++ runtime prints a oneDNN notice on stderr at import whatever the log level: keep stderr
    # aside during the import and show it only if the import fails.
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            return tensorflow_v1()
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
