"""Saving and loading graphs: GraphDef round trips, import_graph_def's options, freezing a trained
model, and meta graphs with Saver restore in a fresh graph (tfcore, and TF where the behaviour is TF's)."""

import numpy as np
import pytest

import tfcore
from tests.tfcore.harness import BuiltSpec, engine, engines, require_tf
from tests.tfcore.opspecs import ALL_SPECS
from tfcore.train.meta_graph import read_meta_graph_file

RNG = np.random.default_rng(7)
X = RNG.standard_normal((8, 6)).astype(np.float32)
Y = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 8)]


def _small_model(tf):
    """A softmax classifier on 6 features with a hidden layer; returns (x, y_, logits, loss, train_op)."""
    x = tf.placeholder(tf.float32, [None, 6], name="x")
    y_ = tf.placeholder(tf.float32, [None, 3], name="y_")
    init = np.random.default_rng(0)
    w1 = tf.Variable(init.standard_normal((6, 5)).astype(np.float32) * 0.5, name="w1")
    b1 = tf.Variable(tf.zeros([5]), name="b1")
    w2 = tf.Variable(init.standard_normal((5, 3)).astype(np.float32) * 0.5, name="w2")
    hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
    logits = tf.identity(tf.matmul(hidden, w2), name="logits")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits), name="loss")
    step = tf.Variable(0, trainable=False, name="global_step")
    train_op = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    tf.add_to_collection("my_outputs", logits)
    return x, y_, logits, loss, train_op


# --- round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [s for s in ALL_SPECS if s.name.split("_")[0] not in ("random",)],
                         ids=lambda s: s.name)
def test_every_op_spec_round_trips(spec):
    """Each op spec with its gradients, serialized, parsed and imported, gives the same values."""
    arrays = [i.make(np.random.default_rng(3), np.float64) for i in spec.inputs]
    with_grads = spec.grad and any(i.differentiable for i in spec.inputs)
    built = BuiltSpec(tfcore, spec, arrays, with_grads=with_grads)
    try:
        graph_def = tfcore.GraphDef.FromString(built.graph.as_graph_def().SerializeToString())
        fetches = [t.name for t in built.outputs + [g for g in built.grads if g is not None]]
        if any(op.type.startswith("Random") or op.type in ("Multinomial", "TruncatedNormal")
               for op in built.graph.get_operations()):
            pytest.skip("random ops draw new numbers in a new session")
        expected = built.session.run(fetches, built.feed(arrays))
        with tfcore.Graph().as_default() as graph:
            tfcore.import_graph_def(graph_def, name="")
            feed = {f"in{i}:0": a for i, a in enumerate(arrays)}
            with tfcore.Session(graph=graph) as sess:
                got = sess.run(fetches, feed)
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)
    finally:
        built.close()


def test_text_and_binary_forms_parse_to_the_same_graph_def():
    with tfcore.Graph().as_default() as graph:
        x = tfcore.placeholder(tfcore.float32, [None, 2], name="x")
        c = tfcore.constant(np.arange(200, dtype=np.float32).reshape(2, 100), name="big")
        tfcore.matmul(x, c, name="y")
        tfcore.constant(["a", "b"], name="words")
    graph_def = graph.as_graph_def()
    text = str(graph_def)
    assert '"name": "y", "op": "MatMul"' in text and '"input": ["x", "big"]' in text
    assert tfcore.GraphDef.FromString(text.encode()) == graph_def
    assert tfcore.GraphDef.FromString(graph_def.SerializeToString()) == graph_def
    assert len(graph_def.node) == 4 and graph_def.node[2].input == ["x", "big"]


def test_tensorflow_files_give_a_clear_error(tmp_path):
    tf = require_tf()
    graph = tf.Graph()
    with graph.as_default():
        tf.matmul(tf.placeholder(tf.float32, [2, 2], name="x"), tf.ones([2, 2]), name="y")
        tf.Variable(1.0, name="v")
        tf.train.export_meta_graph(str(tmp_path / "tf.meta"))
    tf.io.write_graph(graph, str(tmp_path), "tf.pbtxt", as_text=True)
    with pytest.raises(ValueError, match="TensorFlow protobuf"):
        tfcore.GraphDef().ParseFromString(graph.as_graph_def().SerializeToString())
    with pytest.raises(ValueError, match="TensorFlow text protobuf"):
        tfcore.GraphDef().ParseFromString((tmp_path / "tf.pbtxt").read_bytes())
    with pytest.raises(ValueError, match="TensorFlow protobuf"):
        tfcore.train.import_meta_graph(str(tmp_path / "tf.meta"))


# --- import_graph_def's options, against TF ----------------------------------------------------
def _import_names(tf):
    source = tf.Graph()
    with source.as_default():
        a = tf.placeholder(tf.float32, [None, 2], name="a")
        b = tf.multiply(a, 2.0, name="b")
        tf.add(b, 1.0, name="c")
    graph_def = source.as_graph_def()
    results = {}
    with tf.Graph().as_default() as target:
        fed = tf.constant([[1.0, 2.0]], name="fed")
        c1, b_op = tf.import_graph_def(graph_def, input_map={"a:0": fed}, return_elements=["c:0", "b"])
        with tf.name_scope("outer"):
            c2, = tf.import_graph_def(graph_def, return_elements=["c:0"], name="model")
        c3, = tf.import_graph_def(graph_def, return_elements=["c:0"])
        results["names"] = [c1.name, b_op.name, c2.name, c3.name]
        results["ops"] = sorted(op.name for op in target.get_operations())
        with tf.Session() as sess:
            results["value"] = sess.run(c1)
            results["fed_value"] = sess.run(c2, {"outer/model/a:0": [[3.0, 4.0]]})
    return results


@pytest.mark.parametrize("engine_name", engines())
def test_input_map_return_elements_and_prefixes(engine_name):
    got = _import_names(engine(engine_name))
    assert got["names"] == ["import/c:0", "import/b", "outer/model/c:0", "import_1/c:0"]
    np.testing.assert_allclose(got["value"], [[3.0, 5.0]])
    np.testing.assert_allclose(got["fed_value"], [[7.0, 9.0]])
    assert "import/a" in got["ops"]


def test_import_names_match_tensorflow():
    tf = require_tf()
    assert _import_names(tfcore)["ops"] == _import_names(tf)["ops"]


@pytest.mark.parametrize("engine_name", engines())
def test_import_errors(engine_name):
    tf = engine(engine_name)
    with tf.Graph().as_default() as source:
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.negative(x, name="y")
    graph_def = source.as_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="z:0"):
            tf.import_graph_def(graph_def, return_elements=["z:0"])
        with pytest.raises(ValueError, match="'w'"):
            tf.import_graph_def(graph_def, return_elements=["w"])
        with pytest.raises(ValueError, match="q:0"):
            tf.import_graph_def(graph_def, input_map={"q:0": tf.constant([1.0, 2.0])})
    broken = tf.GraphDef()
    broken.CopyFrom(graph_def)
    broken.node[1].input[0] = "missing"
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="missing"):
            tf.import_graph_def(broken)


def test_unknown_op_type_names_the_node_and_type():
    graph_def = tfcore.GraphDef()
    graph_def.node.add(name="mystery", op="NoSuchOp")
    with tfcore.Graph().as_default():
        with pytest.raises(ValueError, match="node 'mystery' has op type 'NoSuchOp'"):
            tfcore.import_graph_def(graph_def)


def test_import_checks_shapes_like_building():
    with tfcore.Graph().as_default() as source:
        tfcore.matmul(tfcore.placeholder(tfcore.float32, [2, 3], name="x"), tfcore.ones([3, 4]), name="y")
    with tfcore.Graph().as_default():
        with pytest.raises(ValueError, match="import/y"):
            tfcore.import_graph_def(source.as_graph_def(), input_map={"x:0": tfcore.ones([2, 5])})


# --- freezing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine_name", engines())
def test_frozen_model_predicts_as_the_live_session(engine_name, tmp_path):
    tf = engine(engine_name)
    graph_util = tf.graph_util
    with tf.Graph().as_default() as graph:
        x, y_, logits, _, train_op = _small_model(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(5):
                sess.run(train_op, {x: X, y_: Y})
            live = sess.run(logits, {x: X})
            frozen = graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["logits"])
    assert not any(n.op in ("VariableV2", "Variable") for n in frozen.node)
    path = tf.io.write_graph(frozen, str(tmp_path), "frozen.pb", as_text=False)
    graph_def = tf.GraphDef()
    with tf.gfile.GFile(path, "rb") as f:
        graph_def.ParseFromString(f.read())
    with tf.Graph().as_default():
        out, = tf.import_graph_def(graph_def, return_elements=["logits:0"], name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(out, {"x:0": X}), live, rtol=1e-6)


def test_python_framework_path_and_extract_sub_graph():
    from tfcore.python.framework import graph_util
    assert graph_util.convert_variables_to_constants is tfcore.graph_util.convert_variables_to_constants
    with tfcore.Graph().as_default() as graph:
        _small_model(tfcore)
    sub = graph_util.extract_sub_graph(graph.as_graph_def(), ["logits"])
    assert {n.name for n in sub.node} >= {"x", "w1", "w1/read", "logits"}
    assert "y_" not in {n.name for n in sub.node}
    with pytest.raises(AssertionError, match="nothing is not in graph"):
        graph_util.extract_sub_graph(graph.as_graph_def(), ["nothing"])


# --- meta graphs ---------------------------------------------------------------------------------
@pytest.mark.parametrize("engine_name", engines())
def test_meta_graph_restore_in_a_fresh_graph_and_train_on(engine_name, tmp_path):
    tf = engine(engine_name)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Graph().as_default():
        x, y_, _, loss, train_op = _small_model(tf)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train_op, {x: X, y_: Y})
            saved = {v.op.name: sess.run(v) for v in tf.global_variables()}
            path = saver.save(sess, prefix, global_step=3)
            sess.run(train_op, {x: X, y_: Y})
            loss_after = sess.run(loss, {x: X, y_: Y})
    with tf.Graph().as_default() as graph:
        restorer = tf.train.import_meta_graph(path + ".meta")
        assert sorted(v.op.name for v in tf.trainable_variables()) == ["b1", "w1", "w2"]
        with tf.Session() as sess:
            restorer.restore(sess, path)
            for v in tf.global_variables():
                np.testing.assert_array_equal(sess.run(v), saved[v.op.name])
            sess.run(tf.get_collection("train_op")[0], {"x:0": X, "y_:0": Y})
            loss_tensor = graph.get_tensor_by_name("loss:0")
            np.testing.assert_allclose(sess.run(loss_tensor, {"x:0": X, "y_:0": Y}), loss_after, rtol=1e-5)
            assert tf.get_collection("my_outputs")[0] is graph.get_tensor_by_name("logits:0")
            assert sess.run(tf.train.get_global_step()) == 4


def test_export_meta_graph_text_and_import_scope(tmp_path):
    with tfcore.Graph().as_default():
        _small_model(tfcore)
        meta = tfcore.train.export_meta_graph(str(tmp_path / "g.meta"), as_text=True)
    text = (tmp_path / "g.meta").read_text()
    assert '"format": "tfcore-meta-graph"' in text and '"name": "logits", "op": "Identity"' in text
    assert read_meta_graph_file(str(tmp_path / "g.meta")).graph_def == meta.graph_def
    with tfcore.Graph().as_default() as graph:
        saver = tfcore.train.import_meta_graph(meta, import_scope="copy")
        assert graph.get_tensor_by_name("copy/logits:0") is tfcore.get_collection("my_outputs")[0]
        assert {v.op.name for v in tfcore.trainable_variables()} == {"copy/w1", "copy/b1", "copy/w2"}
        assert saver is not None
