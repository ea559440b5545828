"""What `course results` needs besides the syllabus: the results lessons report (`course.report`),
the machine they ran on, each value in words, the markers of the table in ``lessons/README.md``, and
the measured spans of the lessons' text.

A lesson's markdown states a run time only inside a measured span,
``<!-- measured 07.training_seconds -->4.1 minutes<!-- /measured -->``: lesson 07's report
``training_seconds`` in words (``lesson_seconds`` is the whole lesson's run). `course results` rewrites
the spans of the lessons it ran in full mode, so the text says what the last measurement found.

`course.lessons` re-exports these names and builds the table itself (`lessons.results_table`).
"""

import json
import os
import platform
import re
from pathlib import Path

__all__ = [
    "RESULTS_START",
    "RESULTS_END",
    "read_reports",
    "machine_info",
    "format_value",
    "replace_results",
    "update_readme",
    "MEASURED",
    "LESSON_SECONDS",
    "spoken_duration",
    "fill_measured",
    "update_measured",
]

RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
"""The markers in ``lessons/README.md`` between which the results table goes."""

MEASURED = re.compile(r"<!-- measured (?P<lesson>\d\d)\.(?P<name>\w+) -->(?P<text>.*?)<!-- /measured -->",
                      re.DOTALL)
"""A measured span in a lesson's markdown: the lesson's tag, the report's name, its value in words."""
LESSON_SECONDS = "lesson_seconds"
"""The name a measured span uses for the whole lesson's run time (every cell, as `course results` ran it)."""


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


def spoken_duration(seconds):
    """`seconds` as a lesson's sentence says it: "85 ms", "4.2 seconds", "38 seconds", "4.1 minutes",
    "1.3 hours"."""
    seconds = float(seconds)
    if seconds < 1:
        return f"{1000 * seconds:.0f} ms" if seconds >= 0.01 else f"{1000 * seconds:.1f} ms"
    if seconds < 10:
        return f"{seconds:.1f} seconds"
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds / 3600:.1f} hours"


def fill_measured(text, values):
    """`text` with each measured span whose (lesson tag, name) is in `values` given that value in words
    (`spoken_duration` for names with "seconds" in them, `format_value` otherwise); other spans are kept.

    Raises `ValueError` for a span that `values` names a lesson of but not the value: the lesson ran
    and reported no such thing (a misspelt name, or a report that was removed)."""
    ran = {lesson for lesson, _ in values}

    def fill(match):
        key = (match["lesson"], match["name"])
        if key not in values:
            if match["lesson"] in ran:
                raise ValueError(f"lesson {key[0]} reported no {key[1]!r} for the measured span {match[0]!r}")
            return match[0]
        value = values[key]
        words = spoken_duration(value) if "seconds" in key[1] else format_value(key[1], value)
        return f"<!-- measured {key[0]}.{key[1]} -->{words}<!-- /measured -->"

    return MEASURED.sub(fill, text)


def update_measured(paths, values):
    """Rewrite the measured spans in the markdown cells of the notebooks `paths` (`fill_measured`);
    returns the notebooks that changed. Each is written in one step (a temporary file renamed over it),
    with nbformat's layout, so an interrupted run leaves every notebook whole."""
    import nbformat

    changed = []
    for path in paths:
        path = Path(path)
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        edited = False
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and "<!-- measured" in cell.source:
                new = fill_measured(cell.source, values)
                edited |= new != cell.source
                cell.source = new
        if edited:
            partial = path.with_name(f".{path.name}.partial")
            nbformat.write(notebook, partial)
            os.replace(partial, path)
            changed.append(path)
    return changed
