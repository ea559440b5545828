"""`course.plots`: every helper titles and labels what it draws, `draw_graph` draws a dataflow graph,
and the figure checker records and judges figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import tfcore
from course import plots
from tests.tfcore.harness import require_tf


def _clean(fig):
    """The figure has a title and every shown axis its label (what the lesson tests demand)."""
    problems = plots.figure_problems(plots.describe_figure(fig))
    assert problems == [], problems


def test_new_axes():
    ax = plots.new_axes("Loss", "step", "loss", figsize=(4, 3))
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Loss", "step", "loss")
    _clean(ax.figure)


@pytest.mark.parametrize("missing", ["title", "xlabel", "ylabel"])
def test_titles_and_labels_are_required(missing):
    kwargs = {"title": "t", "xlabel": "x", "ylabel": "y", missing: ""}
    with pytest.raises(ValueError, match=missing):
        plots.new_axes(**kwargs)
    with pytest.raises(ValueError, match=missing):
        plots.curves({"a": [1, 2]}, **kwargs)
    with pytest.raises(ValueError, match=missing):
        plots.bar(["a"], [1], **kwargs)
    with pytest.raises(TypeError):
        plots.curves({"a": [1, 2]}, title="t", xlabel="x")  # ylabel left out


def test_curves_several_series_with_legend():
    ax = plots.curves({"train": [3, 2, 1], "test": ([0, 10, 20], [4, 3, 2.5])}, title="Loss", xlabel="step",
                      ylabel="cross-entropy", logy=True)
    _clean(ax.figure)
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    assert list(ax.get_lines()[1].get_xdata()) == [0, 10, 20]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "test"]
    assert ax.get_yscale() == "log"


def test_curves_single_line():
    ax = plots.curves(xs=[1, 2, 3], ys=[1, 4, 9], title="Squares", xlabel="x", ylabel="x²")
    _clean(ax.figure)
    assert ax.get_legend() is None
    assert list(ax.get_lines()[0].get_ydata()) == [1, 4, 9]


def test_bar_vertical_and_horizontal():
    ax = plots.bar(["relu", "sigmoid"], [1.0, 2.0], title="Time", xlabel="function", ylabel="ms")
    _clean(ax.figure)
    assert len(ax.patches) == 2
    ax = plots.bar(["MatMul", "Conv2D", "Add"], [3, 2, 1], title="Time", xlabel="ms", ylabel="op",
                   horizontal=True)
    _clean(ax.figure)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MatMul", "Conv2D", "Add"]


def test_image_grid_flat_gray_and_colour_images():
    fig = plots.image_grid(np.random.rand(10, 784), titles=[str(i) for i in range(10)], title="Digits",
                           ncols=4)
    _clean(fig)
    assert fig.get_suptitle() == "Digits"
    shown = [ax for ax in fig.get_axes() if ax.images]
    assert len(fig.get_axes()) == 12 and len(shown) == 10  # 3 rows of 4, two cells empty
    assert all(not ax.axison for ax in fig.get_axes())
    assert shown[0].images[0].get_array().shape == (28, 28)
    assert [ax.get_title() for ax in shown[:3]] == ["0", "1", "2"]
    colour = np.full((2, 8, 8, 3), 255.0, dtype=np.float32)  # course.data.load_image's 0..255
    fig = plots.image_grid(colour, title="Photos")
    _clean(fig)
    assert fig.get_axes()[0].images[0].get_array().max() == pytest.approx(1.0)


def test_confusion_matrix_counts_and_labels():
    true = np.array([0, 0, 1, 2, 2, 2])
    pred = np.eye(3)[[0, 1, 1, 2, 2, 0]]  # one-hot predictions work too
    counts = plots.confusion_counts(true, pred, num_classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    ax = plots.confusion_matrix(true, pred, title="Confusion", num_classes=3)
    _clean(ax.figure)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(c) for c in counts.ravel())


def test_surface_paths():
    def bowl(x, y):
        return x ** 2 + 3 * y ** 2

    path = np.array([[2.0, 1.0], [1.0, 0.5], [0.2, 0.1]])
    ax = plots.surface_paths(bowl, {"gradient descent": path, "momentum": (path[:, 0], -path[:, 1])},
                             (-3, 3), (-2, 2), title="A bowl")
    _clean(ax.figure)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in labelled] == ["gradient descent", "momentum"]
    assert list(labelled[0].get_xdata()) == [2.0, 1.0, 0.2]


def test_surface_paths_with_a_scalar_function():
    ax = plots.surface_paths(lambda x, y: max(abs(x), abs(y)), {}, (-1, 1), (-1, 1), title="Max norm",
                             resolution=20, log_levels=True)
    _clean(ax.figure)


# --- draw_graph -------------------------------------------------------------------------------------


def _small_graph(tf):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.constant(2.0, name="a")
        b = tf.placeholder(tf.float32, name="b")
        total = tf.add(a, b, name="total")
        w = tf.Variable(1.0, name="w")
        with tf.control_dependencies([total]):
            tf.identity(w, name="after")
    return graph


def _drawn(ax):
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    texts = {t.get_text() for t in ax.texts}
    return boxes, arrows, texts


def test_draw_graph_tfcore():
    graph = _small_graph(tfcore)
    ops = graph.get_operations()
    ax = plots.draw_graph(graph, title="A small graph", highlight={"total"}, highlight_label="fetched")
    _clean(ax.figure)
    assert not ax.axison and ax.get_title() == "A small graph"
    boxes, arrows, texts = _drawn(ax)
    assert len(boxes) == len(ops)
    edges = sum(len(op.inputs) + len(op.control_inputs) for op in ops)
    assert len(arrows) == edges
    assert {"a", "b", "total", "w", "after", "Const", "Placeholder", "Add", "VariableV2"} <= texts
    dashed = [a for a in arrows if a.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 1  # the control dependency
    colours = {tuple(b.get_facecolor()) for b in boxes}
    assert len(colours) >= 4  # constant, placeholder, variable, op, highlighted
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fetched" in legend and "control dependency" in legend


def test_draw_graph_layers_inputs_above_consumers():
    graph = _small_graph(tfcore)
    ax = plots.draw_graph(graph, title="Layers")
    y = {}
    for text in ax.texts:
        if text.get_text() in ("a", "b", "total", "after"):
            y[text.get_text()] = text.get_position()[1]
    assert y["a"] > y["total"] and y["b"] > y["total"] and y["total"] > y["after"]


def test_draw_graph_accepts_op_lists_tensors_and_graph_defs():
    graph = _small_graph(tfcore)
    total = graph.get_tensor_by_name("total:0")
    ax = plots.draw_graph([total, total.op.inputs[0].op], title="Two ops")
    boxes, arrows, _ = _drawn(ax)
    assert len(boxes) == 2 and len(arrows) == 1  # only edges between the ops drawn
    ax = plots.draw_graph(graph.as_graph_def(), title="From a GraphDef")
    boxes, arrows, _ = _drawn(ax)
    assert len(boxes) == len(graph.get_operations())
    ax = plots.draw_graph([], title="Nothing")
    assert "(empty graph)" in {t.get_text() for t in ax.texts}


def test_draw_graph_of_a_training_step_is_readable():
    """A linear model with its gradients and optimizer (about 50 ops): every op drawn, none overlapping."""
    graph = tfcore.Graph()
    with graph.as_default():
        x = tfcore.placeholder(tfcore.float32, [None, 3], name="x")
        y = tfcore.placeholder(tfcore.float32, [None, 1], name="y")
        w = tfcore.Variable(tfcore.zeros([3, 1]), name="w")
        loss = tfcore.reduce_mean(tfcore.square(tfcore.matmul(x, w) - y))
        tfcore.train.GradientDescentOptimizer(0.1).minimize(loss)
    ax = plots.draw_graph(graph, title="Training step")
    boxes, _, _ = _drawn(ax)
    assert len(boxes) == len(graph.get_operations()) >= 30
    corners = {(round(b.get_x(), 3), round(b.get_y(), 3)) for b in boxes}
    assert len(corners) == len(boxes)


@pytest.mark.tensorflow
def test_draw_graph_tensorflow():
    tf = require_tf()
    graph = _small_graph(tf)
    ax = plots.draw_graph(graph, title="TensorFlow's graph")
    boxes, arrows, texts = _drawn(ax)
    assert len(boxes) == len(graph.get_operations())
    assert "total" in texts and texts & {"Add", "AddV2"}
    ax = plots.draw_graph(graph.as_graph_def(), title="TensorFlow's GraphDef")
    assert len(_drawn(ax)[0]) == len(graph.get_operations())


# --- the figure checker -----------------------------------------------------------------------------


def test_figure_problems_rules():
    fig, (left, right) = plt.subplots(1, 2)
    left.set_title("left")
    left.set_xlabel("x")
    right.axis("off")
    problems = plots.figure_problems(plots.describe_figure(fig))
    assert any("no title" in p and "axes 2" in p for p in problems)
    assert any("axes 1 ('left') shows its y axis but has no y label" == p for p in problems)
    assert not any("x label" in p for p in problems)
    fig.suptitle("Two panels")  # a suptitle titles the whole figure
    left.set_ylabel("y")
    assert plots.figure_problems(plots.describe_figure(fig)) == []


def test_colorbars_twins_and_figure_labels_pass():
    fig, ax = plt.subplots()
    image = ax.imshow(np.eye(3))
    fig.colorbar(image, ax=ax)
    ax.set_title("with a colour bar")
    twin = ax.twinx()
    twin.set_ylabel("second scale")
    fig.supxlabel("column")
    fig.supylabel("row")
    record = plots.describe_figure(fig)
    assert any(a["colorbar"] for a in record["axes"])
    assert plots.figure_problems(record) == []


def test_figure_checker_logs_rendered_figures(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_LESSON", raising=False)
    log = tmp_path / "figures.jsonl"
    plots.install_figure_checker(log)
    try:
        ax = plots.curves({"a": [1, 2]}, title="Logged", xlabel="x", ylabel="y")
        ax.figure.savefig(tmp_path / "good.png")
        fig, bad = plt.subplots()
        bad.plot([1, 2])
        fig.savefig(tmp_path / "bad.png")
    finally:
        plots.uninstall_figure_checker()
    fig.savefig(tmp_path / "not_logged.png")
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    problems = plots.check_figures(log)
    assert problems and all(p.startswith("figure log: figure 2 ('untitled')") for p in problems)
    assert plots.check_figures(tmp_path / "absent.jsonl") == []
