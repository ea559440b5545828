"""tf.summary ops run in a Session, written by FileWriter, read back with TensorBoard's reader."""

import glob
import io
import time

import numpy as np
import pytest

import tfcore as tf
import tfcore.summary  # noqa: F401 - binds tf.summary until tfcore/__init__ imports it
from tests.tfcore.harness import engine, engines, reference_tf, require_tf, run_in_graph
from tfcore.framework.registry import get_gradient_function
from tfcore.summary import png, proto, writer
from tfcore.summary.event_file import read_records


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _tensorboard():
    return pytest.importorskip("tensorboard", reason="tensorboard (a dev dependency) is not installed")


def _accumulator(logdir):
    """TensorBoard's EventAccumulator over `logdir`, keeping every event."""
    _tensorboard()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "images": 0,
                                                        "tensors": 0})
    acc.Reload()
    return acc


def _values(summary_bytes):
    """The (tag, field number of the value) pairs of a serialized Summary."""
    out = []
    for number, _, value in proto.iter_fields(summary_bytes):
        assert number == 1
        fields = {n: v for n, _, v in proto.iter_fields(value)}
        out.append((fields[1].decode(), sorted(set(fields) - {1, 9})[0]))
    return out


# --- the same programs on tfcore and TensorFlow --------------------------------------------------
def _naming_program(tf):
    x = tf.placeholder(tf.float32, [], name="x")
    ops = [tf.summary.scalar("loss", x), tf.summary.scalar("loss", x)]
    with tf.name_scope("train"):
        ops.append(tf.summary.scalar("loss", x))
        ops.append(tf.summary.histogram("w", tf.reshape(x, [1]), family="weights"))
    ops.append(tf.summary.scalar("acc", x, family="metrics"))
    ops.append(tf.summary.scalar("bad name!", x))
    ops.append(tf.summary.image("pic", tf.zeros([2, 2, 2, 1]) + x, max_outputs=1))
    ops.append(tf.summary.image("pics", tf.zeros([2, 2, 2, 1]) + x))
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        out = sess.run(merged, {x: 1.0})
    return {"ops": [op.op.name for op in ops] + [merged.op.name], "values": _values(out),
            "collected": len(tf.get_collection(tf.GraphKeys.SUMMARIES)),
            "types": (ops[0].dtype.name, ops[0].shape.ndims, merged.dtype.name, merged.shape.ndims)}


@pytest.mark.parametrize("name", engines())
def test_tags_follow_name_scopes_and_families(name):
    result = run_in_graph(engine(name), _naming_program)
    assert result["ops"] == ["loss", "loss_1", "train/loss", "train/weights/w", "metrics/acc", "bad_name_",
                             "pic", "pics", "Merge/MergeSummary"]
    assert result["values"] == [("loss", 2), ("loss_1", 2), ("train/loss", 2), ("weights/train/weights/w", 5),
                                ("metrics/metrics/acc", 2), ("bad_name_", 2), ("pic/image", 4),
                                ("pics/image/0", 4), ("pics/image/1", 4)]
    assert result["collected"] == 8
    assert result["types"] == ("string", 0, "string", 0)


def _run_time_errors_program(tf):
    x = tf.placeholder(tf.float32, None)
    nan = tf.summary.histogram("h", x)
    different = tf.summary.merge([tf.summary.scalar("a", tf.constant(1.0)),
                                  tf.summary.scalar("b", tf.constant(2.0), family="a")])
    same = tf.summary.merge([tf.summary.scalar("c", tf.constant(1.0))] * 2)
    messages = []
    with tf.Session() as sess:
        for fetch, feed in ((nan, {x: [1.0, np.nan]}), (different, None), (same, None)):
            try:
                sess.run(fetch, feed)
                messages.append(None)
            except tf.errors.InvalidArgumentError as e:
                messages.append(e.message)
    return messages


@pytest.mark.parametrize("name", engines())
def test_run_time_errors(name):
    nan, different, same = run_in_graph(engine(name), _run_time_errors_program)
    assert "Nan in summary histogram for: h" in nan
    assert different is None  # tags "a" and "a/a/b"
    assert "Duplicate tag c found in summary inputs" in same


def _training_program(tf, logdir, feeds):
    x = tf.placeholder(tf.float32, [None, 3], name="x-input")
    w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2), name="weights")
    with tf.name_scope("layer"):
        y = tf.matmul(x, w)
        tf.summary.histogram("activations", y)
    loss = tf.reduce_sum(y * y)
    tf.summary.scalar("loss", loss)
    tf.summary.image("input", tf.reshape(x, [-1, 1, 3, 1]), max_outputs=2)
    tf.summary.text("note", tf.constant("**bold**"))
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(logdir, sess.graph)
        sess.run(tf.global_variables_initializer())
        for step, feed in enumerate(feeds):
            writer.add_summary(sess.run(merged, {x: feed}), global_step=step * 10)
        writer.close()
    return logdir


def _read_back(logdir):
    """What TensorBoard shows of a run: tags, scalars, histograms, images and the graph."""
    acc = _accumulator(logdir)
    tags = acc.Tags()
    histos = [h.histogram_value for h in acc.Histograms("layer/activations")]
    images = [(i.step, i.width, i.height, _pixels(i.encoded_image_string))
              for tag in sorted(tags["images"]) for i in acc.Images(tag)]
    return {"tags": {k: sorted(tags[k]) for k in ("scalars", "histograms", "images", "tensors")},
            "graph": tags["graph"], "loss": [(e.step, e.value) for e in acc.Scalars("loss")],
            "histos": [(h.num, h.min, h.max, h.sum, list(h.bucket_limit), list(h.bucket)) for h in histos],
            "images": images, "text": [t.tensor_proto.string_val[0] for t in acc.Tensors("note")],
            "nodes": {n.name: n for n in acc.Graph().node}}


def _pixels(data):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("name", engines())
def test_training_loop_round_trip(name, tmp_path):
    pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    rng = np.random.default_rng(1)
    feeds = [rng.normal(size=(4, 3)).astype(np.float32) for _ in range(3)]
    run = _read_back(run_in_graph(engine(name), _training_program, str(tmp_path / name), feeds))
    assert run["tags"] == {"scalars": ["loss"], "histograms": ["layer/activations"],
                           "images": ["input/image/0", "input/image/1"], "tensors": ["note"]}
    assert run["graph"]
    activations = [f @ np.arange(6, dtype=np.float32).reshape(3, 2) for f in feeds]
    assert [step for step, _ in run["loss"]] == [0, 10, 20]
    np.testing.assert_allclose([v for _, v in run["loss"]], [np.sum(a * a) for a in activations], rtol=1e-5)
    for histo, a in zip(run["histos"], activations, strict=True):
        assert histo[:3] == (8, a.min(), a.max()) and histo[3] == pytest.approx(a.sum(), rel=1e-5)
    assert [i[:3] for i in run["images"]] == [(s, 3, 1) for s in (0, 10, 20)] * 2
    assert run["text"] == [b"**bold**"] * 3
    nodes = run["nodes"]
    assert nodes["layer/MatMul"].op == "MatMul" and nodes["layer/MatMul"].input[0] == "x-input"
    assert nodes["x-input"].op == "Placeholder" and nodes["x-input"].attr["dtype"].type == 1
    assert [d.size for d in nodes["x-input"].attr["shape"].shape.dim] == [-1, 3]
    if name == "tfcore" and reference_tf() is not None:  # the same run, written by TensorFlow
        theirs = _read_back(run_in_graph(require_tf(), _training_program, str(tmp_path / "tf"), feeds))
        assert run["tags"] == theirs["tags"] and run["text"] == theirs["text"]
        assert [s for s, _ in run["loss"]] == [s for s, _ in theirs["loss"]]
        np.testing.assert_allclose([v for _, v in run["loss"]], [v for _, v in theirs["loss"]], rtol=1e-5)
        for mine, their in zip(run["histos"], theirs["histos"], strict=True):
            np.testing.assert_allclose(mine[:4], their[:4], rtol=1e-5)
            assert mine[4:] == their[4:]  # the same buckets and counts
        for mine, their in zip(run["images"], theirs["images"], strict=True):
            assert mine[:3] == their[:3]
            np.testing.assert_array_equal(mine[3], their[3])


# --- tfcore only ---------------------------------------------------------------------------------
def test_collections_argument():
    x = tf.constant(1.0)
    s = tf.summary.scalar("a", x, collections=["mine"])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == []
    assert tf.get_collection("mine") == [s]
    assert tf.summary.merge_all() is None
    assert tf.summary.merge_all("mine").op.name == "Merge/MergeSummary"


def test_fetched_summaries_are_bytes_and_merge_concatenates():
    x = tf.placeholder(tf.float32, [None], name="values")
    parts = [tf.summary.scalar("total", tf.reduce_sum(x)), tf.summary.histogram("x", x),
             tf.summary.image("im", tf.reshape(x, [1, 1, -1, 1])), tf.summary.text("t", tf.constant("hi"))]
    merged = tf.summary.merge(parts)
    with tf.Session() as sess:
        *singles, together = sess.run(parts + [merged], {x: [1.0, 2.0, 3.5]})
    assert all(isinstance(v, bytes) for v in singles + [together])
    assert together == b"".join(singles)
    assert _values(together) == [("total", 2), ("x", 5), ("im/image/0", 4), ("t", 8)]


def test_build_time_errors():
    with pytest.raises(ValueError, match="scalar"):
        tf.summary.scalar("v", tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="real-valued"):
        tf.summary.histogram("s", tf.constant(["a"]))
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("im", tf.zeros([2, 3, 3]))
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("im", tf.zeros([1, 2, 3, 2]))
    with pytest.raises(TypeError, match="uint8"):
        tf.summary.image("im", tf.zeros([1, 2, 3, 1], dtype=tf.int32))
    with pytest.raises(ValueError, match="string"):
        tf.summary.text("t", tf.constant(1.0))


def test_summaries_are_not_differentiable():
    x = tf.placeholder(tf.float32, [2, 2, 2, 1])
    ops = [tf.summary.scalar("s", tf.reduce_sum(x)), tf.summary.histogram("h", x),
           tf.summary.image("i", x), tf.summary.text("t", tf.constant("hi"))]
    ops.append(tf.summary.merge(ops))
    for op in ops:
        assert get_gradient_function(op.op) is None


def test_graph_def_details(tmp_path):
    _tensorboard()
    from tensorboard.backend import process_graph
    from tensorboard.compat.proto import graph_pb2

    with tf.device("/cpu:0"):
        a = tf.placeholder(tf.float32, [2, None], name="a")
    big = tf.constant(np.ones((40, 40), np.float32), name="big")
    small = tf.constant([1.0, 2.0], name="small")
    parts = tf.unstack(tf.constant([[1.0, 2.0], [3.0, 4.0]]), name="parts")
    total = a * parts[1] + small
    init = tf.no_op(name="init")
    with tf.control_dependencies([init]):
        tf.identity(total, name="out")
    graph = graph_pb2.GraphDef.FromString(writer.graph_def_bytes(tf.get_default_graph()))
    nodes = {n.name: n for n in graph.node}
    assert [n.name for n in graph.node] == [op.name for op in tf.get_default_graph().get_operations()]
    assert nodes["a"].device == "/device:CPU:0"
    assert list(nodes[total.op.inputs[0].op.name].input) == ["a", "parts:1"]
    assert list(nodes["out"].input) == [total.op.name, "^init"]
    assert nodes["out"].attr["T"].type == 1
    def output_shapes(node):
        return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]

    assert output_shapes(nodes["a"]) == [[2, -1]] and output_shapes(nodes["out"]) == [[2, 2]]
    assert output_shapes(nodes["parts"]) == [[2], [2]]
    assert list(nodes["big"].attr["_too_large_attrs"].list.s) == [b"value"]
    assert "value" not in nodes["big"].attr and nodes["big"].attr["dtype"].type == 1
    np.testing.assert_array_equal(np.frombuffer(nodes["small"].attr["value"].tensor.tensor_content,
                                                np.float32), [1.0, 2.0])
    assert nodes["init"].op == "NoOp" and "_output_shapes" not in nodes["init"].attr
    del big
    process_graph.prepare_graph_for_ui(graph, 1024, "_too_large_attrs")


def test_add_graph_accepts_graph_def_forms(tmp_path):
    tf.constant(1.0, name="c")
    nodes = tf.get_default_graph().as_graph_def()
    with tf.summary.FileWriter(str(tmp_path)) as fw:
        fw.add_graph(None, graph_def=nodes)
        with pytest.raises(ValueError, match="only graph or graph_def"):
            fw.add_graph(tf.get_default_graph(), graph_def=nodes)
    graph = _accumulator(tmp_path).Graph()
    assert [(n.name, n.op) for n in graph.node] == [("c", "Const")]


def test_writer_lifecycle(tmp_path):
    fw = tf.summary.FileWriter(str(tmp_path / "logs"), filename_suffix=".tfcore")
    fw.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="acc", simple_value=0.5)]), 3)
    with pytest.raises(TypeError, match="serialized bytes"):
        fw.add_summary(tf.summary.scalar("x", tf.constant(1.0)))
    fw.close()
    fw.close()
    with pytest.raises(RuntimeError, match="closed"):
        fw.add_summary(b"", 1)
    fw.reopen()
    fw.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="acc", simple_value=0.75)]), 4)
    fw.close()
    files = sorted(glob.glob(str(tmp_path / "logs" / "events.out.tfevents.*.tfcore")))
    assert len(files) == 2
    acc = _accumulator(tmp_path / "logs")
    assert [(e.step, e.value) for e in acc.Scalars("acc")] == [(3, 0.5), (4, 0.75)]


def test_summary_image_message(tmp_path):
    encoded = png.encode_png(np.zeros((2, 3, 1), np.uint8))
    picture = tf.summary.Summary.Image(height=2, width=3, colorspace=1, encoded_image_string=encoded)
    with tf.summary.FileWriter(str(tmp_path)) as fw:
        summary = tf.summary.Summary(value=[tf.summary.Summary.Value(tag="pic", image=picture)])
        fw.add_summary(summary.SerializeToString())
    (img,) = _accumulator(tmp_path).Images("pic")
    assert (img.height, img.width) == (2, 3)


def test_background_flush(tmp_path):
    fw = tf.summary.FileWriter(str(tmp_path), flush_secs=0.05)
    fw.add_summary(tf.summary.Summary(value=[tf.summary.Summary.Value(tag="a", simple_value=1.0)]), 1)
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    deadline = time.time() + 5
    while len(list(read_records(path))) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert len(list(read_records(path))) == 2  # without flush() or close()
    fw.close()


def test_run_metadata_round_trip(tmp_path):
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.reduce_sum(x * 2.0, name="y")
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    run_metadata = tf.RunMetadata()
    with tf.Session() as sess, tf.summary.FileWriter(str(tmp_path), sess.graph) as fw:
        sess.run(y, {x: [1.0, 2.0]}, options=options, run_metadata=run_metadata)
        fw.add_run_metadata(run_metadata, "step7", global_step=7)
    acc = _accumulator(tmp_path)
    assert acc.Tags()["run_metadata"] == ["step7"]
    (device,) = acc.RunMetadata("step7").step_stats.dev_stats
    assert device.device.endswith("CPU:0")
    assert "y" in [n.node_name for n in device.node_stats]
    assert all(n.all_end_rel_micros >= 0 for n in device.node_stats)
