"""Interleaved timing and the description of the machine a run measured.

Each engine runs in its own worker process (`benchmarks.worker`); `interleave` asks them in turn
(A B C A B C ...) for one sample each per round, so that a change in the machine's load during the run
falls on all of them alike, and returns the median over the rounds. A sample (`sample`, in the worker)
runs the step `calls` times, enough to last about `sample_seconds` (`calibrate`, after the warm-up),
and counts the time per call.
"""

import datetime
import gc
import importlib.metadata
import os
import platform
import statistics
import time


def calibrate(step, warmup=2, sample_seconds=0.25, max_calls=10000):
    """Run `step` `warmup` times, then time it once: the number of calls a sample should make."""
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    step()
    once = time.perf_counter() - start
    return max(1, min(max_calls, int(sample_seconds / max(once, 1e-9))))


def sample(step, calls):
    """Seconds per call of `step`, over `calls` calls (after a garbage collection, outside the timing)."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def interleave(samplers, repeats, pause=0.0):
    """Take `repeats` rounds of one sample from each of `samplers` ({engine: () -> seconds per call}),
    in turn, with `pause` seconds before each (so that the threads the previous engine left spinning
    go to sleep first). Returns {engine: {"median", "min", "samples"}} in seconds per call."""
    samples = {name: [] for name in samplers}
    for _ in range(repeats):
        for name, take in samplers.items():
            if pause:
                time.sleep(pause)
            samples[name].append(take())
    return {name: {"median": statistics.median(values), "min": min(values), "samples": values}
            for name, values in samples.items()}


def _package_version(*names):
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib():
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _blas():
    """The BLAS NumPy uses (tfcore's matrix products), e.g. "scipy-openblas 0.3.29"."""
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # the layout of show_config is not a stable API
        return None


def load_average():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def machine_info():
    """CPU model, cores, RAM, Python and the versions of NumPy, TensorFlow, PyTorch and the course."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "numpy": _package_version("numpy"),
        "numpy_blas": _blas(),
        "tfcore": _package_version("tf-course"),
        "tensorflow": _package_version("tensorflow-cpu", "tensorflow"),
        "torch": _package_version("torch"),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
