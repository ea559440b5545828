"""The figure checker: describe each rendered figure, log it as a JSON line, and name the figures
that lack a title or a label (see `course.plots`)."""

import functools
import json
import os


def _axes_title(ax):
    return " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t).strip()


def describe_figure(fig):
    """What the checker records of a figure: its titles and, for each visible axes, its title, labels,
    and whether its x and y axes are shown (colour bars are marked and need no labels)."""
    visible = [ax for ax in fig.get_axes() if ax.get_visible()]
    axes = []
    for ax in visible:
        shown = bool(ax.axison)
        title = _axes_title(ax)
        if not title:  # a twin (twinx/twiny) shares the title of the axes it overlays
            bounds = ax.get_position().bounds
            twins = [other for other in visible if other is not ax and other.get_position().bounds == bounds]
            title = next((_axes_title(other) for other in twins if _axes_title(other)), "")
        axes.append({
            "title": title,
            "xlabel": ax.get_xlabel(),
            "ylabel": ax.get_ylabel(),
            "axis_on": shown,
            "x_shown": shown and ax.xaxis.get_visible(),
            "y_shown": shown and ax.yaxis.get_visible(),
            "colorbar": getattr(ax, "_colorbar", None) is not None,
        })
    return {
        "suptitle": fig.get_suptitle(),
        "supxlabel": fig.get_supxlabel(),
        "supylabel": fig.get_supylabel(),
        "axes": axes,
    }


def figure_problems(record):
    """The problems of one described figure (`describe_figure`, or a line of the figure log): a missing
    title (no suptitle, and some axes untitled), or a shown axis without its label."""
    problems = []
    plain = [a for a in record.get("axes", []) if not a.get("colorbar")]
    if not str(record.get("suptitle") or "").strip():
        untitled = [i + 1 for i, a in enumerate(plain) if not a.get("title", "").strip()]
        if not plain:
            problems.append("the figure has no title (no suptitle and no axes)")
        elif untitled:
            which = ", ".join(str(i) for i in untitled)
            problems.append(f"the figure has no title (no suptitle, and axes {which} of {len(plain)} "
                            "have no title)")
    for i, a in enumerate(plain, start=1):
        name = f"axes {i}" + (f" ({a['title']!r})" if a.get("title") else "")
        if a.get("x_shown", a.get("axis_on")) and not (a.get("xlabel") or record.get("supxlabel")):
            problems.append(f"{name} shows its x axis but has no x label")
        if a.get("y_shown", a.get("axis_on")) and not (a.get("ylabel") or record.get("supylabel")):
            problems.append(f"{name} shows its y axis but has no y label")
    return problems


_checker = {"path": None, "original": None, "busy": False, "watching": False, "cell": None}


def _watch_cells():
    """In IPython, note the first line of each cell as it starts, to name the cell a figure came from
    (the inline backend renders a cell's figures after the cell has run)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or _checker["watching"]:
        return

    def cell_starts(info=None, *_):
        source = getattr(info, "raw_cell", "") or ""
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
        _checker["cell"] = first if len(first) <= 60 else first[:59] + "…"

    shell.events.register("pre_run_cell", cell_starts)
    _checker["watching"] = True


def _log_figure(figure):
    record = describe_figure(figure)
    record["lesson"] = os.environ.get("COURSE_LESSON", "")
    record["cell"] = _checker["cell"]
    with open(_checker["path"], "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")


def install_figure_checker(path):
    """Log every figure matplotlib renders (shown inline or saved) to `path`, one JSON line each.

    ``import course`` calls this when ``COURSE_FIGURE_LOG`` is set; calling it again changes the path.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    _checker["path"] = os.fspath(path)
    _watch_cells()
    if _checker["original"] is not None:
        return
    original = FigureCanvasBase.print_figure

    @functools.wraps(original)
    def print_figure(self, *args, **kwargs):
        if not _checker["busy"] and _checker["path"]:
            _checker["busy"] = True  # print_figure can re-enter itself when it switches canvases
            try:
                _log_figure(self.figure)
            finally:
                _checker["busy"] = False
        return original(self, *args, **kwargs)

    _checker["original"] = original
    FigureCanvasBase.print_figure = print_figure


def uninstall_figure_checker():
    """Undo `install_figure_checker`."""
    from matplotlib.backend_bases import FigureCanvasBase

    if _checker["original"] is not None:
        FigureCanvasBase.print_figure = _checker["original"]
    _checker.update(path=None, original=None)


def check_figures(path=None):
    """Read a figure log (`path`, or ``$COURSE_FIGURE_LOG``) and return one message per problem, naming
    the lesson, the figure (its number in the log, its title and its cell) and what is missing. An
    absent log (no figure rendered) has no problems."""
    path = path or os.environ.get("COURSE_FIGURE_LOG")
    if not path or not os.path.exists(path):
        return []
    messages = []
    with open(path, encoding="utf-8") as log:
        for number, line in enumerate(log, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            titles = [record.get("suptitle")] + [a.get("title") for a in record.get("axes", [])]
            title = next((t for t in titles if t), "untitled")
            where = record.get("lesson") or "figure log"
            cell = f", in the cell starting {record['cell']!r}" if record.get("cell") else ""
            for problem in figure_problems(record):
                messages.append(f"{where}: figure {number} ({title!r}{cell}): {problem}")
    return messages


def _install_from_environment():
    """The hook ``import course`` calls when ``COURSE_FIGURE_LOG`` is set."""
    path = os.environ.get("COURSE_FIGURE_LOG")
    if path:
        install_figure_checker(path)


_install_from_environment()
