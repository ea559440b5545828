"""tf.train.Saver: file names, the `checkpoint` state file, max_to_keep, dict var_lists, errors,
and a process killed in the middle of `save`."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tfcore as tf
from tests.tfcore.harness import engine, engines, run_in_graph


def _model(tf):
    with tf.variable_scope("layer1"):
        w = tf.get_variable("weights", [3, 2], initializer=tf.constant_initializer(0.5))
        b = tf.get_variable("biases", [2], initializer=tf.constant_initializer(0.0))
    step = tf.Variable(0, name="global_step", trainable=False)
    return w, b, step


@pytest.mark.parametrize("engine_name", engines())
def test_save_names_state_file_and_max_to_keep(engine_name, tmp_path):
    def program(tf):
        w, b, step = _model(tf)
        bump = tf.group(tf.assign_add(w, tf.ones([3, 2])), tf.assign_add(step, 1))
        saver = tf.train.Saver(max_to_keep=2)
        paths = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(bump)
                paths.append(saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step))
        return paths, saver.last_checkpoints
    paths, kept = run_in_graph(engine(engine_name), program)
    assert [os.path.basename(p) for p in paths] == ["model.ckpt-1", "model.ckpt-2", "model.ckpt-3"]
    assert kept == paths[1:]
    files = sorted(os.listdir(tmp_path))
    assert "model.ckpt-1.index" not in files
    for p in paths[1:]:
        base = os.path.basename(p)
        assert {base + ".index", base + ".data-00000-of-00001", base + ".meta"} <= set(files)
    state = (tmp_path / "checkpoint").read_text()  # absolute save path -> absolute paths, as TF
    assert state.splitlines() == [f'model_checkpoint_path: "{paths[2]}"',
                                  f'all_model_checkpoint_paths: "{paths[1]}"',
                                  f'all_model_checkpoint_paths: "{paths[2]}"']


def test_restore_with_dict_var_list_and_checkpoint_tools(tmp_path):
    with tf.Graph().as_default():
        w, b, step = _model(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.assign(w, np.arange(6, dtype=np.float32).reshape(3, 2)))
            path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    assert tf.train.get_checkpoint_state(str(tmp_path)).model_checkpoint_path == path
    assert dict(tf.train.list_variables(str(tmp_path))) == {
        "global_step": [], "layer1/biases": [2], "layer1/weights": [3, 2]}
    np.testing.assert_array_equal(tf.train.load_variable(path, "layer1/weights"),
                                  np.arange(6).reshape(3, 2))
    with tf.Graph().as_default():
        other = tf.Variable(tf.zeros([3, 2]), name="renamed")
        saver = tf.train.Saver({"layer1/weights": other})
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
            np.testing.assert_array_equal(sess.run(other), np.arange(6).reshape(3, 2))


def test_restore_errors_name_the_problem(tmp_path):
    with tf.Graph().as_default():
        _model(tf)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with tf.Graph().as_default():
        tf.Variable(tf.zeros([2]), name="not_there")
        with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError, match="not_there"):
            tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        with tf.variable_scope("layer1"):
            tf.get_variable("weights", [4, 4])
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="layer1/weights"):
            tf.train.Saver().restore(sess, path)
    with tf.Graph().as_default():
        _model(tf)
        with tf.Session() as sess, pytest.raises(ValueError, match="not a valid checkpoint"):
            tf.train.Saver().restore(sess, str(tmp_path / "nothing"))
    data = path + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) - 5)
    with tf.Graph().as_default():
        _model(tf)
        with tf.Session() as sess, pytest.raises(tf.errors.DataLossError, match="data-00000-of-00001"):
            tf.train.Saver().restore(sess, path)


_WRITER = r"""
import sys, numpy as np
import tfcore as tf
w = tf.Variable(tf.zeros([2000, 2000]), name="big")
step = tf.Variable(0, name="global_step", trainable=False)
update = tf.group(tf.assign(w, tf.fill([2000, 2000], tf.cast(step + 1, tf.float32))), tf.assign_add(step, 1))
saver = tf.train.Saver(max_to_keep=3)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(update)
    saver.save(sess, sys.argv[1], global_step=step)
    print("first", flush=True)
    while True:
        sess.run(update)
        saver.save(sess, sys.argv[1], global_step=step)
"""


def test_killed_during_save_leaves_a_restorable_checkpoint(tmp_path):
    """SIGKILL a process while it saves 16 MB checkpoints in a loop; the state file always names
    a checkpoint that restores, with the values of exactly one step."""
    rng = np.random.default_rng(0)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=repo)
    for attempt in range(4):
        folder = tmp_path / f"run{attempt}"
        folder.mkdir()
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(folder / "model.ckpt")],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"first"
        time.sleep(float(rng.uniform(0.05, 0.6)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with tf.Graph().as_default():
            w = tf.Variable(tf.zeros([2000, 2000]), name="big")
            step = tf.Variable(0, name="global_step", trainable=False)
            with tf.Session() as sess:
                latest = tf.train.latest_checkpoint(str(folder))
                assert latest is not None
                tf.train.Saver().restore(sess, latest)
                value, saved_step = sess.run([w, step])
        assert latest.endswith(f"-{saved_step}")
        assert np.all(value == saved_step), "a checkpoint mixes two saves"
