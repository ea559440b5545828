"""Plots with axes: each takes `title`, `xlabel` and `ylabel` (keywords, required, non-empty) and
returns the matplotlib `Axes` it drew on."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from course.plots.labels import _labelled, _require


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
