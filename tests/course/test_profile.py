"""`course.profile`: per-op-type tables and charts from a real traced run (tfcore, and TensorFlow where
installed)."""

import types

import numpy as np
import pytest

import tfcore
from course import plots, profile
from tests.tfcore.harness import require_tf


def _traced_step(tf, steps=1):
    """Build a small two-layer network, run `steps` traced training steps; return (metadata list, graph)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 8], name="x")
        y = tf.placeholder(tf.float32, [None, 2], name="y")
        w1 = tf.Variable(tf.ones([8, 16]) * 0.1, name="w1")
        w2 = tf.Variable(tf.ones([16, 2]) * 0.1, name="w2")
        logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1)), w2)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    feed = {x: np.ones((4, 8), np.float32), y: np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]}
    metadata = []
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            md = tf.RunMetadata()
            sess.run(train, feed_dict=feed, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                     run_metadata=md)
            metadata.append(md)
    return metadata, graph


def test_op_table_from_a_traced_tfcore_run():
    (md,), graph = _traced_step(tfcore)
    rows = profile.op_table(md)
    by_type = {row.op_type: row for row in rows}
    assert by_type["MatMul"].count == 5  # 2 forward, 3 backward (the gradient for x is pruned)
    assert by_type["ApplyGradientDescent"].count == 2
    assert sum(row.count for row in rows) == len(profile.node_times(md))
    assert sum(row.share for row in rows) == pytest.approx(1.0)
    assert [row.total_ms for row in rows] == sorted((row.total_ms for row in rows), reverse=True)
    assert all(row.total_ms >= 0 and row.mean_ms >= 0 for row in rows)
    names = {record.name for record in profile.node_times(md)}
    assert names <= {op.name for op in graph.get_operations()}


def test_several_steps_add_up():
    metadata, _ = _traced_step(tfcore, steps=3)
    one = {row.op_type: row.count for row in profile.op_table(metadata[0])}
    three = {row.op_type: row.count for row in profile.op_table(metadata)}
    assert three == {op_type: 3 * count for op_type, count in one.items()}


def test_format_table():
    (md,), _ = _traced_step(tfcore)
    rows = profile.op_table(md)
    text = profile.format_table(rows, top=3)
    lines = text.splitlines()
    assert lines[0].split() == ["op", "type", "count", "total", "ms", "share"]
    assert lines[2].split()[0] == rows[0].op_type
    assert any(line.startswith(f"other ({len(rows) - 3} types)") for line in lines)
    assert lines[-1].startswith("total") and lines[-1].endswith("100.0%")
    assert str(sum(row.count for row in rows)) in lines[-1]


def test_plot_profile_is_labelled():
    (md,), _ = _traced_step(tfcore)
    ax = profile.plot_profile(md, title="One training step", top=4)
    assert plots.figure_problems(plots.describe_figure(ax.figure)) == []
    assert len(ax.patches) == 5  # four op types and "other"
    assert ax.get_yticklabels()[-1].get_text().startswith("other")


def test_untraced_metadata_is_a_clear_error():
    with pytest.raises(ValueError, match="FULL_TRACE"):
        profile.op_table(tfcore.RunMetadata())


def test_tensorflow_style_records():
    """TF's records carry no op type: it comes from the graph, else from the timeline label; _SOURCE is
    left out; nanoseconds are used where present."""
    stat = types.SimpleNamespace
    records = [
        stat(node_name="_SOURCE", timeline_label="_SOURCE = NoOp()", all_end_rel_micros=1),
        stat(node_name="MatMul", timeline_label="MatMul = _MklMatMul(x, w)", all_end_rel_micros=3,
             all_end_rel_nanos=2500),
        stat(node_name="_arg_x_0_0", timeline_label="_arg_x_0_0 = _Arg()", all_end_rel_micros=1),
    ]
    md = stat(step_stats=stat(dev_stats=[stat(device="/device:CPU:0", node_stats=records)]))
    graph = stat(get_operations=lambda: [stat(name="MatMul", type="MatMul")])
    assert {(r.op_type, r.count) for r in profile.op_table(md, graph=graph)} == {("MatMul", 1), ("_Arg", 1)}
    assert {r.op_type for r in profile.op_table(md)} == {"_MklMatMul", "_Arg"}
    matmul = next(r for r in profile.op_table(md, graph=graph) if r.op_type == "MatMul")
    assert matmul.total_ms == pytest.approx(0.0025)


@pytest.mark.tensorflow
def test_op_table_from_a_traced_tensorflow_run():
    tf = require_tf()
    (md,), graph = _traced_step(tf)
    rows = profile.op_table(md, graph=graph)
    by_type = {row.op_type: row for row in rows}
    assert by_type["MatMul"].count == 5
    assert by_type["ApplyGradientDescent"].count == 2
    assert "_SOURCE" not in {r.name for r in profile.node_times(md, graph)}
    ax = profile.plot_profile(md, title="TensorFlow: one training step", graph=graph)
    assert plots.figure_problems(plots.describe_figure(ax.figure)) == []
