"""Plotting helpers that always title and label, and the figure checker the lesson tests use.

    from course import plots
    ax = plots.curves({"train": train_loss, "test": test_loss}, title="Loss while training",
                      xlabel="step", ylabel="cross-entropy")
    plots.image_grid(images[:16], titles=[str(d) for d in labels[:16]], title="Some digits")
    plots.draw_graph(tf.get_default_graph(), title="The graph of a + b")

Every helper that shows axes takes `title`, `xlabel` and `ylabel` (keywords, required, non-empty);
helpers that draw pictures (image grids, graphs) turn the axes off and need only a title. Each returns
the matplotlib `Axes` it drew on (`image_grid` returns the `Figure`), so a lesson can add to it.

The figure checker: with ``COURSE_FIGURE_LOG=<file>`` set, ``import course`` wraps matplotlib's
rendering entry point (`FigureCanvasBase.print_figure`, which Jupyter's inline backend and
`savefig` both call) so that every rendered figure appends one JSON line to that file: its titles,
labels and which axes are shown. `check_figures` reads the file back and names each figure that
lacks a title or a label.

The helpers live in submodules, all imported here: `charts` (plots with axes), `pictures` (image
grids), `graph` (`draw_graph`) and `checker` (the figure checker); `labels` holds the rule they share.
"""

from course.plots.charts import bar, confusion_counts, confusion_matrix, curves, new_axes, surface_paths
from course.plots.checker import (
    check_figures,
    describe_figure,
    figure_problems,
    install_figure_checker,
    uninstall_figure_checker,
)
from course.plots.graph import draw_graph
from course.plots.pictures import image_grid

__all__ = [
    "new_axes",
    "curves",
    "image_grid",
    "confusion_counts",
    "confusion_matrix",
    "surface_paths",
    "bar",
    "draw_graph",
    "describe_figure",
    "figure_problems",
    "check_figures",
    "install_figure_checker",
    "uninstall_figure_checker",
]
