"""What `course results` needs besides the syllabus: the results lessons report (`course.report`),
the machine they ran on, each value in words, and the markers of the table in ``lessons/README.md``.

`course.lessons` re-exports these names and builds the table itself (`lessons.results_table`).
"""

import json
import os
import platform
from pathlib import Path

__all__ = [
    "RESULTS_START",
    "RESULTS_END",
    "read_reports",
    "machine_info",
    "format_value",
    "replace_results",
    "update_readme",
]

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
"""The markers in ``lessons/README.md`` between which the results table goes."""


def read_reports(path):
    """The JSON lines `course.report` appended to `path`: a list of {lesson, name, value} dicts."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _package_version(*names):
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def machine_info(engine="tfcore"):
    """The machine a measurement ran on: CPU count and model, Python, NumPy, the engine and version."""
    if engine == "tensorflow":
        version = _package_version("tensorflow-cpu", "tensorflow")
        engine_text = f"TensorFlow {version} (tensorflow.compat.v1)" if version else "TensorFlow"
    else:
        version = _package_version("tf-course")
        engine_text = f"tfcore (tf-course {version})" if version else "tfcore"
    numpy_version = _package_version("numpy")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "numpy": numpy_version,
        "engine": engine_text,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def format_value(name, value):
    """`value` as the results table shows it: accuracies as percentages, durations in seconds (and
    minutes from a minute on), other numbers to four significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if "accuracy" in name and 0.0 <= value <= 1.0:
        return f"{100 * value:.2f}%"
    if name.endswith("seconds"):
        minutes, secs = divmod(float(value), 60.0)
        return f"{value:.1f} s" if value < 60 else f"{int(minutes)} min {secs:.0f} s ({value:.0f} s)"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def replace_results(text, table, where="the README"):
    """`text` with what lies between ``<!-- results:start -->`` and ``<!-- results:end -->`` replaced by
    `table`. Raises `ValueError` when the markers are missing."""
    start, end = text.find(RESULTS_START), text.find(RESULTS_END)
    if start < 0 or end < start:
        raise ValueError(f"{where} lacks the markers {RESULTS_START} ... {RESULTS_END}")
    return text[:start + len(RESULTS_START)] + "\n" + table.strip() + "\n" + text[end:]


def update_readme(readme, table):
    """Write `table` between the results markers of the file `readme` (`replace_results`)."""
    readme = Path(readme)
    new = replace_results(readme.read_text(encoding="utf-8"), table, where=str(readme))
    readme.write_text(new, encoding="utf-8")
    return new
