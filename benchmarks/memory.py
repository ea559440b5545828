"""Resident memory of this process, in MiB, with the standard library only (so that `child` can
measure an engine's import without importing anything else first).

On Linux `/proc/self/status` gives the current (VmRSS) and peak (VmHWM) resident set, and writing "5"
to `/proc/self/clear_refs` resets the peak to the current value, so a peak can be measured for one
stretch of a program. Elsewhere a sampling thread stands in for the reset (psutil if installed), and
without psutil the peak is `ru_maxrss`, the peak of the whole process.
"""

import resource
import sys
import threading

MIB = 1024 * 1024


def _status_kib(field):
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def ru_maxrss_mib():
    """The process's peak resident memory since it started (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def rss_mib():
    """The resident memory now (None where neither /proc nor psutil can tell)."""
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib / 1024
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss / MIB


class PeakMeter:
    """The peak resident memory between `start()` and `stop()`, in MiB.

    `method` says how it was measured: "vmhwm" (Linux, exact), "sampling" (a thread reading the
    resident memory every millisecond) or "ru_maxrss" (the whole process's peak)."""

    def __init__(self):
        self.method = None
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
                clear.write("5")
            if _status_kib("VmHWM") is not None:
                self.method = "vmhwm"
                return self
        except OSError:
            pass
        if rss_mib() is not None:
            self.method = "sampling"
            self._peak = rss_mib()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        else:
            self.method = "ru_maxrss"
        return self

    def _sample(self):
        while not self._stop.wait(0.001):
            self._peak = max(self._peak, rss_mib())

    def stop(self):
        """The peak in MiB."""
        if self.method == "vmhwm":
            return _status_kib("VmHWM") / 1024
        if self.method == "sampling":
            self._stop.set()
            self._thread.join()
            return max(self._peak, rss_mib())
        return ru_maxrss_mib()
