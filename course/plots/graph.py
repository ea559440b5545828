"""The dataflow graph as a picture (`draw_graph`): each op a box, edges as arrows, inputs on top and
results at the bottom, laid out in layers ordered so that edges cross less."""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from course.plots.labels import _require

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


_BOX_W, _BOX_H = 0.9, 0.5
"""The size of an op's box, in layout units (one unit between neighbouring boxes and between rows)."""


def _edges(nodes):
    """The drawn ops' names and types, and each op's data and control inputs among the drawn ops (no
    self-loops, no duplicates): (names, types, data, control, preds), preds being both kinds of input."""
    names = [n[0] for n in nodes]
    known = set(names)
    types = {n[0]: n[1] for n in nodes}
    data = {n[0]: [p for p in dict.fromkeys(n[2]) if p in known and p != n[0]] for n in nodes}
    control = {n[0]: [p for p in dict.fromkeys(n[3]) if p in known and p != n[0]] for n in nodes}
    preds = {n: list(dict.fromkeys(data[n] + control[n])) for n in names}
    return names, types, data, control, preds


def _highlighted_names(highlight):
    """The op names in `highlight`: names as given, ops by their name, tensors by their op's name."""
    return {h if isinstance(h, str) else (h.op.name if hasattr(h, "value_index") else h.name)
            for h in (highlight or ())}


def _grid(names, preds):
    """Where each op goes: (rows of op names, top row first; x position of each op in its row; row of
    each op; the widest row's length)."""
    layer, succs = _layers(names, preds) if names else ({}, {})
    depth = max(layer.values(), default=0) + 1
    rows = [[] for _ in range(depth)]
    for n in names:
        rows[layer[n]].append(n)
    rows = [row for row in rows if row]
    position = _order_layers(rows, preds, succs) if names else {}
    row_of = {n: r for r, row in enumerate(rows) for n in row}
    width = max((len(row) for row in rows), default=1)
    return rows, position, row_of, width


def _graph_axes(ax, figsize, width, depth):
    """`ax`, or a new one sized for `width` boxes across and `depth` rows (within limits)."""
    if ax is None:
        if figsize is None:
            figsize = (min(26.0, max(6.0, 1.75 * width + 0.8)), min(40.0, max(3.0, 0.95 * depth + 1.2)))
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _text_size(ax, width):
    """The font size of the box texts, and how many characters of a name fit in a box."""
    fig_width_in = ax.figure.get_size_inches()[0] * ax.get_position().width
    inch_per_unit = fig_width_in / (width + 0.2)
    fontsize = float(np.clip(inch_per_unit * 5.2, 5.0, 9.0))
    chars = max(6, int(0.9 * inch_per_unit * 72 / (0.6 * fontsize)))
    return fontsize, chars


def _draw_edges(ax, xy, names, data, control):
    """An arrow from each input to the op that uses it; control dependencies dashed and lighter."""
    for n in names:
        for p, dashed in [(p, False) for p in data[n]] + [(p, True) for p in control[n]]:
            (x0, y0), (x1, y1) = xy[p], xy[n]
            # edges that skip layers bow sideways a little (about 0.3 of a box), to pass beside boxes
            length = math.hypot(x1 - x0, y1 - y0 - _BOX_H)
            bow = 0.3 / length if y0 - y1 > 1 and length > 0 else 0.0
            arrow = FancyArrowPatch(
                (x0, y0 - _BOX_H / 2), (x1, y1 + _BOX_H / 2), arrowstyle="-|>", mutation_scale=9,
                color="#8a8a8a" if dashed else "#505050", linewidth=0.9, linestyle="--" if dashed else "-",
                connectionstyle=f"arc3,rad={bow:.3f}", shrinkA=0, shrinkB=0, zorder=1)
            ax.add_patch(arrow)


def _draw_boxes(ax, xy, names, types, highlighted, fontsize, chars):
    """A box per op, coloured by its kind (or highlighted), with its name and, below it, its type."""
    for n in names:
        x, y = xy[n]
        kind = _node_kind(types[n])
        colour = _HIGHLIGHT_COLOUR if n in highlighted else _NODE_COLOURS[kind][0]
        ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                    boxstyle="round,pad=0.0,rounding_size=0.08", facecolor=colour,
                                    edgecolor="#333333", linewidth=0.8, zorder=2))
        ax.text(x, y + 0.07, _short(n, chars), ha="center", va="center", fontsize=fontsize, zorder=3)
        ax.text(x, y - 0.13, _short(types[n], chars), ha="center", va="center", fontsize=fontsize * 0.85,
                color="#444444", style="italic", zorder=3)


def _graph_legend(ax, names, types, highlighted, highlight_label, control):
    """The legend below the graph: the kinds of op drawn, the highlight, and the kinds of edge."""
    kinds = dict.fromkeys(_node_kind(types[n]) for n in names if n not in highlighted)
    handles = [Patch(facecolor=_NODE_COLOURS[k][0], edgecolor="#333333", label=_NODE_COLOURS[k][1])
               for k in _NODE_COLOURS if k in kinds]
    if highlighted & set(names):
        handles.append(Patch(facecolor=_HIGHLIGHT_COLOUR, edgecolor="#333333", label=highlight_label))
    handles.append(Line2D([], [], color="#505050", label="data (tensor)"))
    if any(control.values()):
        handles.append(Line2D([], [], color="#8a8a8a", linestyle="--", label="control dependency"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(handles), 4),
              fontsize=8, frameon=False)


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
    names, types, data, control, preds = _edges(_graph_nodes(graph_or_ops))
    highlighted = _highlighted_names(highlight)
    rows, position, row_of, width = _grid(names, preds)

    ax = _graph_axes(ax, figsize, width, len(rows))
    fontsize, chars = _text_size(ax, width)
    xy = {n: (position[n], -row_of[n]) for n in names}
    _draw_edges(ax, xy, names, data, control)
    _draw_boxes(ax, xy, names, types, highlighted, fontsize, chars)
    if not names:
        ax.text(0, 0, "(empty graph)", ha="center", va="center")
    ax.set_xlim(-width / 2 - 0.1, width / 2 + 0.1)
    ax.set_ylim(-len(rows) + 0.35, 0.65)
    ax.axis("off")
    ax.set_title(title)
    _graph_legend(ax, names, types, highlighted, highlight_label, control)
    return ax
