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
"""

import functools
import json
import math
import os

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

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


def _require(**texts):
    """Raise if any of the named texts (a title or an axis label) is missing or empty."""
    for what, text in texts.items():
        if text is None or not str(text).strip():
            raise ValueError(f"course.plots: {what} is required (a non-empty string), got {text!r}")


def _labelled(ax, title, xlabel, ylabel):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


# ---------------------------------------------------------------------------------------------------
# Plots with axes


def new_axes(title, xlabel, ylabel, figsize=None):
    """A new figure with one titled, labelled `Axes` (returned): ``ax = plots.new_axes("Loss", "step",
    "loss"); ax.plot(losses)``."""
    _require(title=title, xlabel=xlabel, ylabel=ylabel)
    _, ax = plt.subplots(figsize=figsize or (6.4, 4.0))
    return _labelled(ax, title, xlabel, ylabel)


def curves(series=None, *, xs=None, ys=None, title, xlabel, ylabel, logy=False, ax=None, figsize=None,
           **plot_kwargs):
    """Several lines in one plot, with a legend.

    `series` maps a label to its y values, or to an ``(x values, y values)`` pair; `xs`, when given, is
    the x axis of every series that has no x values of its own. For a single line, pass `xs`/`ys` (or
    just `ys`) instead of `series`. `logy` puts the y axis on a log scale (losses). Extra keywords go
    to `Axes.plot`.
    """
    _require(title=title, xlabel=xlabel, ylabel=ylabel)
    if series is None:
        if ys is None:
            raise ValueError("course.plots.curves: give `series` (a dict label -> ys) or `ys`")
        series = {None: ys}
    elif not isinstance(series, dict):
        raise TypeError(f"course.plots.curves: `series` must be a dict of label -> ys, got "
                        f"{type(series).__name__} (pass a single line as ys=...)")
    if ax is None:
        ax = new_axes(title, xlabel, ylabel, figsize=figsize)
    else:
        _labelled(ax, title, xlabel, ylabel)
    for label, values in series.items():
        if isinstance(values, tuple) and len(values) == 2:
            x, y = np.asarray(values[0]), np.asarray(values[1])
        else:
            y = np.asarray(values)
            x = np.asarray(xs) if xs is not None else np.arange(len(y))
        ax.plot(x, y, label=label, **plot_kwargs)
    if logy:
        ax.set_yscale("log")
    if any(label is not None for label in series):
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def bar(labels, values, *, title, xlabel, ylabel, horizontal=False, ax=None, figsize=None, color=None):
    """A bar chart of `values`, one bar per label; `horizontal` puts the labels on the y axis (good for
    long names). The value axis is labelled by `ylabel` (vertical) or `xlabel` (horizontal)."""
    _require(title=title, xlabel=xlabel, ylabel=ylabel)
    labels = [str(label) for label in labels]
    values = np.asarray(values, dtype=float)
    if len(labels) != len(values):
        raise ValueError(f"course.plots.bar: {len(labels)} labels but {len(values)} values")
    if ax is None:
        if figsize is None:
            figsize = (6.4, max(2.5, 0.3 * len(labels) + 1.0)) if horizontal else (
                max(6.4, 0.45 * len(labels) + 1.5), 4.0)
        ax = new_axes(title, xlabel, ylabel, figsize=figsize)
    else:
        _labelled(ax, title, xlabel, ylabel)
    positions = np.arange(len(labels))
    if horizontal:
        ax.barh(positions, values, color=color or "C0")
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()  # the first label on top, as read
        ax.grid(True, axis="x", alpha=0.3)
    else:
        ax.bar(positions, values, color=color or "C0")
        ax.set_xticks(positions, labels, rotation=45 if max(map(len, labels), default=0) > 6 else 0,
                      ha="right" if max(map(len, labels), default=0) > 6 else "center")
        ax.grid(True, axis="y", alpha=0.3)
    return ax


def confusion_counts(true, pred, num_classes=10):
    """The confusion matrix as an int array: ``counts[t, p]`` examples of class t predicted as p.

    `true` and `pred` are class indices, or one-hot / score rows (their argmax is taken)."""
    true, pred = np.asarray(true), np.asarray(pred)
    if true.ndim == 2:
        true = true.argmax(axis=1)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    if true.shape != pred.shape:
        raise ValueError(f"course.plots: {true.shape[0]} true labels but {pred.shape[0]} predictions")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (true.astype(np.int64), pred.astype(np.int64)), 1)
    return counts


def confusion_matrix(true, pred, *, title, num_classes=10, class_names=None, ax=None, figsize=None):
    """The confusion matrix of `pred` against `true` as a picture with the count in every cell: rows are
    the true class, columns the predicted class (so the diagonal holds the correct answers)."""
    _require(title=title)
    counts = confusion_counts(true, pred, num_classes)
    names = [str(n) for n in (class_names if class_names is not None else range(num_classes))]
    if ax is None:
        size = max(4.5, 0.5 * num_classes + 1.5)
        ax = new_axes(title, "predicted", "true", figsize=figsize or (size, size))
    else:
        _labelled(ax, title, "predicted", "true")
    ax.imshow(counts, cmap="Blues")
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    threshold = counts.max() / 2 if counts.size else 0
    fontsize = 8 if num_classes <= 12 else 6
    for t in range(num_classes):
        for p in range(num_classes):
            ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=fontsize,
                    color="white" if counts[t, p] > threshold else "black")
    return ax


def _evaluate_surface(f, X, Y):
    """f on the grid: vectorised when f takes arrays, point by point when it only takes numbers."""
    try:
        Z = np.asarray(f(X, Y), dtype=float)
        if Z.shape == X.shape:
            return Z
    except (TypeError, ValueError):
        pass
    return np.vectorize(lambda x, y: float(f(x, y)))(X, Y)


def surface_paths(f, paths, xlim, ylim, *, title, xlabel="x", ylabel="y", levels=30, resolution=200,
                  log_levels=False, ax=None, figsize=None):
    """Contours of a function f(x, y) with optimisation paths drawn on top.

    `paths` maps a name ("gradient descent", "Adam") to the points visited: an array [steps, 2] or a
    pair ``(xs, ys)``. Each path starts at a round marker and ends at a star. `log_levels` spaces the
    contour levels logarithmically (for valleys like Rosenbrock's). The axes are labelled `xlabel` and
    `ylabel` ("x" and "y" unless given).
    """
    _require(title=title, xlabel=xlabel, ylabel=ylabel)
    if ax is None:
        ax = new_axes(title, xlabel, ylabel, figsize=figsize or (6.4, 5.2))
    else:
        _labelled(ax, title, xlabel, ylabel)
    x = np.linspace(xlim[0], xlim[1], resolution)
    y = np.linspace(ylim[0], ylim[1], resolution)
    X, Y = np.meshgrid(x, y)
    Z = _evaluate_surface(f, X, Y)
    if log_levels:
        shifted = Z - Z.min() + 1e-3
        level_values = np.geomspace(shifted.min(), shifted.max(), levels)
        ax.contourf(X, Y, shifted, levels=level_values, cmap="viridis", alpha=0.35,
                    norm=matplotlib.colors.LogNorm())
        ax.contour(X, Y, shifted, levels=level_values, cmap="viridis", linewidths=0.6,
                   norm=matplotlib.colors.LogNorm())
    else:
        ax.contourf(X, Y, Z, levels=levels, cmap="viridis", alpha=0.35)
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.6)
    for i, (name, points) in enumerate(paths.items()):
        if isinstance(points, tuple) and len(points) == 2:
            px, py = np.asarray(points[0], dtype=float), np.asarray(points[1], dtype=float)
        else:
            arr = np.asarray(points, dtype=float).reshape(-1, 2)
            px, py = arr[:, 0], arr[:, 1]
        color = f"C{i % 10}"
        ax.plot(px, py, "-", color=color, linewidth=1.6, marker=".", markersize=3, label=name)
        ax.plot(px[:1], py[:1], "o", color=color, markersize=7, markeredgecolor="black")
        ax.plot(px[-1:], py[-1:], "*", color=color, markersize=12, markeredgecolor="black")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    if paths:
        ax.legend(loc="best")
    return ax


# ---------------------------------------------------------------------------------------------------
# Pictures (axes off: a title is enough)


def _as_picture(image):
    """An image array ready for imshow: flat squares reshaped, one-channel squeezed, RGB in 0..1."""
    image = np.asarray(image)
    if image.ndim == 1:
        side = math.isqrt(image.size)
        if side * side != image.size:
            raise ValueError(f"course.plots: a flat image of {image.size} values is not a square")
        image = image.reshape(side, side)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.dtype.kind == "f":
        # colour images: the course keeps them in 0..255 (course.data.load_image); imshow wants 0..1
        scale = 255.0 if image.max(initial=0.0) > 1.0 else 1.0
        image = np.clip(image / scale, 0.0, 1.0)
    return image


def image_grid(images, titles=None, *, title, ncols=8, cmap="gray", figsize=None, vmin=None, vmax=None):
    """Images in a grid with the figure title `title` and, optionally, one title per image.

    `images`: a sequence or an array [n, height, width], [n, height, width, channels] or [n, pixels] (a
    square such as MNIST's 784). Colour float images in 0..255 are scaled for display. Returns the
    `Figure`.
    """
    _require(title=title)
    pictures = [_as_picture(image) for image in images]
    if titles is not None and len(titles) != len(pictures):
        raise ValueError(f"course.plots.image_grid: {len(pictures)} images but {len(titles)} titles")
    n = max(len(pictures), 1)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    if figsize is None:
        figsize = (max(3.0, 1.4 * ncols), 1.5 * nrows + (0.25 * nrows if titles is not None else 0) + 0.6)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(pictures):
            ax.imshow(pictures[i], cmap=cmap if pictures[i].ndim == 2 else None, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- the dataflow graph -----------------------------------------------------------------------------

_NODE_COLOURS = {
    "input": ("#c9e8c3", "placeholder (fed)"),
    "variable": ("#fbe7a1", "variable"),
    "constant": ("#e3e3e3", "constant"),
    "op": ("#cfe0f5", "operation"),
}
_HIGHLIGHT_COLOUR = "#f3a3a3"
_INPUT_TYPES = {"Placeholder", "PlaceholderWithDefault"}
_VARIABLE_TYPES = {"VariableV2", "Variable", "VarHandleOp"}


def _node_kind(op_type):
    if op_type in _INPUT_TYPES:
        return "input"
    if op_type in _VARIABLE_TYPES:
        return "variable"
    if op_type == "Const":
        return "constant"
    return "op"


def _input_name(name):
    """An input reference ("x:0", "^init", "x") as (op name, is_control)."""
    if name.startswith("^"):
        return name[1:], True
    return name.split(":")[0], False


def _graph_nodes(graph_or_ops):
    """[(name, type, data input op names, control input op names)] for a Graph, a GraphDef, or a list
    of operations, tensors or node defs (tfcore's ``as_graph_def()`` dicts, TF's NodeDef protos)."""
    obj = graph_or_ops
    if hasattr(obj, "get_operations"):
        items = obj.get_operations()
    elif hasattr(obj, "node") and not isinstance(obj, dict):
        items = list(obj.node)
    else:
        items = list(obj)
    nodes = []
    for item in items:
        if hasattr(item, "op") and hasattr(item, "value_index"):  # a Tensor: draw its op
            item = item.op
        if isinstance(item, dict):
            refs = [_input_name(str(i)) for i in item.get("input", [])]
            nodes.append((item["name"], item["op"], [n for n, c in refs if not c], [n for n, c in refs if c]))
        elif hasattr(item, "inputs") and hasattr(item, "type"):  # an Operation
            nodes.append((item.name, item.type, [t.op.name for t in item.inputs],
                          [c.name for c in item.control_inputs]))
        elif hasattr(item, "input") and hasattr(item, "op"):  # a NodeDef proto
            refs = [_input_name(str(i)) for i in item.input]
            nodes.append((item.name, item.op, [n for n, c in refs if not c], [n for n, c in refs if c]))
        else:
            raise TypeError(f"course.plots.draw_graph: cannot draw {type(item).__name__!r}; pass a Graph, a "
                            "GraphDef, or a list of operations or tensors")
    seen, unique = set(), []
    for node in nodes:
        if node[0] not in seen:
            seen.add(node[0])
            unique.append(node)
    return unique


def _layers(names, preds):
    """A layer per node: each op below all of its inputs (longest path from the sources), then
    sources (constants, variables, placeholders) moved down to just above their first consumer.
    Back edges (TF's while loops) are ignored."""
    index = {n: i for i, n in enumerate(names)}
    indegree = {n: len(preds[n]) for n in names}
    succs = {n: [] for n in names}
    for n in names:
        for p in preds[n]:
            succs[p].append(n)
    order, ready, done = [], [n for n in names if indegree[n] == 0], set()
    while len(order) < len(names):
        if not ready:  # a cycle: take the earliest remaining node as if its inputs were ready
            ready = [min((n for n in names if n not in done), key=index.get)]
        ready.sort(key=index.get)
        node = ready.pop(0)
        if node in done:
            continue
        done.add(node)
        order.append(node)
        for s in succs[node]:
            indegree[s] -= 1
            if indegree[s] == 0 and s not in done:
                ready.append(s)
    position = {n: i for i, n in enumerate(order)}
    layer = {}
    for n in order:
        inputs = [layer[p] for p in preds[n] if p in layer and position[p] < position[n]]
        layer[n] = 1 + max(inputs) if inputs else 0
    for n in reversed(order):
        if not preds[n] and succs[n]:
            layer[n] = max(layer[n], min(layer[s] for s in succs[n]) - 1)
    return layer, succs


def _order_layers(rows, preds, succs, sweeps=4):
    """Barycentre ordering within layers (a few down and up sweeps) so that edges cross less."""
    position = {}
    for row in rows:
        for i, n in enumerate(row):
            position[n] = i - (len(row) - 1) / 2

    def sweep(sequence, neighbours):
        for row in sequence:
            def key(n, row=row):
                linked = [position[m] for m in neighbours[n] if m in position]
                return sum(linked) / len(linked) if linked else position[n]
            row.sort(key=key)
            for i, n in enumerate(row):
                position[n] = i - (len(row) - 1) / 2

    for _ in range(sweeps):
        sweep(rows[1:], preds)
        sweep(rows[-2::-1], succs)
    return position


def _short(text, limit):
    """`text` cut to `limit` characters from the left, at a name-scope boundary where one fits."""
    if len(text) <= limit:
        return text
    parts = text.split("/")
    for i in range(1, len(parts)):
        tail = "…/" + "/".join(parts[i:])
        if len(tail) <= limit:
            return tail
    return "…" + text[-(limit - 1):]


def draw_graph(graph_or_ops, *, title, highlight=None, highlight_label="highlighted", ax=None,
               figsize=None):
    """Draw a dataflow graph: each op a box (its name, and its type below), edges as arrows from an op
    to the ops that use its outputs, control dependencies dashed; inputs on top, results at the bottom.

    `graph_or_ops`: a tfcore or TensorFlow `Graph`, a GraphDef, or a list of operations/tensors (only
    the edges between them are drawn). `highlight`: op names (or ops, or tensors) to colour differently, in
    the legend as `highlight_label` ("pruned", "gradient ops"). Readable up to about 60 ops. Returns
    the `Axes` (axis off).
    """
    _require(title=title)
    nodes = _graph_nodes(graph_or_ops)
    names = [n[0] for n in nodes]
    known = set(names)
    types = {n[0]: n[1] for n in nodes}
    data = {n[0]: [p for p in dict.fromkeys(n[2]) if p in known and p != n[0]] for n in nodes}
    control = {n[0]: [p for p in dict.fromkeys(n[3]) if p in known and p != n[0]] for n in nodes}
    preds = {n: list(dict.fromkeys(data[n] + control[n])) for n in names}
    highlighted = {h if isinstance(h, str) else (h.op.name if hasattr(h, "value_index") else h.name)
                   for h in (highlight or ())}

    layer, succs = _layers(names, preds) if names else ({}, {})
    depth = max(layer.values(), default=0) + 1
    rows = [[] for _ in range(depth)]
    for n in names:
        rows[layer[n]].append(n)
    rows = [row for row in rows if row]
    position = _order_layers(rows, preds, succs) if names else {}
    row_of = {n: r for r, row in enumerate(rows) for n in row}
    width = max((len(row) for row in rows), default=1)

    if ax is None:
        if figsize is None:
            figsize = (min(26.0, max(6.0, 1.75 * width + 0.8)), min(40.0, max(3.0, 0.95 * len(rows) + 1.2)))
        _, ax = plt.subplots(figsize=figsize)
    fig_width_in = ax.figure.get_size_inches()[0] * ax.get_position().width
    inch_per_unit = fig_width_in / (width + 0.2)
    fontsize = float(np.clip(inch_per_unit * 5.2, 5.0, 9.0))
    chars = max(6, int(0.9 * inch_per_unit * 72 / (0.6 * fontsize)))
    box_w, box_h = 0.9, 0.5

    xy = {n: (position[n], -row_of[n]) for n in names}
    for n in names:
        for p, dashed in [(p, False) for p in data[n]] + [(p, True) for p in control[n]]:
            (x0, y0), (x1, y1) = xy[p], xy[n]
            # edges that skip layers bow sideways a little (about 0.3 of a box), to pass beside boxes
            length = math.hypot(x1 - x0, y1 - y0 - box_h)
            bow = 0.3 / length if y0 - y1 > 1 and length > 0 else 0.0
            arrow = FancyArrowPatch(
                (x0, y0 - box_h / 2), (x1, y1 + box_h / 2), arrowstyle="-|>", mutation_scale=9,
                color="#8a8a8a" if dashed else "#505050", linewidth=0.9, linestyle="--" if dashed else "-",
                connectionstyle=f"arc3,rad={bow:.3f}", shrinkA=0, shrinkB=0, zorder=1)
            ax.add_patch(arrow)
    for n in names:
        x, y = xy[n]
        kind = _node_kind(types[n])
        colour = _HIGHLIGHT_COLOUR if n in highlighted else _NODE_COLOURS[kind][0]
        ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0.0,rounding_size=0.08", facecolor=colour,
                                    edgecolor="#333333", linewidth=0.8, zorder=2))
        ax.text(x, y + 0.07, _short(n, chars), ha="center", va="center", fontsize=fontsize, zorder=3)
        ax.text(x, y - 0.13, _short(types[n], chars), ha="center", va="center", fontsize=fontsize * 0.85,
                color="#444444", style="italic", zorder=3)
    if not names:
        ax.text(0, 0, "(empty graph)", ha="center", va="center")
    ax.set_xlim(-width / 2 - 0.1, width / 2 + 0.1)
    ax.set_ylim(-len(rows) + 0.35, 0.65)
    ax.axis("off")
    ax.set_title(title)

    kinds = dict.fromkeys(_node_kind(types[n]) for n in names if n not in highlighted)
    handles = [Patch(facecolor=_NODE_COLOURS[k][0], edgecolor="#333333", label=_NODE_COLOURS[k][1])
               for k in _NODE_COLOURS if k in kinds]
    if highlighted & known:
        handles.append(Patch(facecolor=_HIGHLIGHT_COLOUR, edgecolor="#333333", label=highlight_label))
    handles.append(Line2D([], [], color="#505050", label="data (tensor)"))
    if any(control.values()):
        handles.append(Line2D([], [], color="#8a8a8a", linestyle="--", label="control dependency"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 4),
              fontsize=8, frameon=False)
    return ax


# ---------------------------------------------------------------------------------------------------
# The figure checker


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
