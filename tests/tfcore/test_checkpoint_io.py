"""Checkpoint storage (`tfcore.train.checkpoint_io`) and the `checkpoint` state file
(`tfcore.train.checkpoint_state`): round trips, corruption reports, byte-compatibility of the state
file with real TensorFlow, and atomicity under SIGKILL."""

import contextlib
import inspect
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tfcore.framework import errors
from tfcore.train import checkpoint_io, checkpoint_state

REPO_ROOT = Path(checkpoint_io.__file__).resolve().parents[2]
DATA = ".data-00000-of-00001"

NUMERIC_DTYPES = [
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
    "uint16", "uint32", "uint64", "complex64", "complex128",
]  # fmt: skip
SHAPES = [(), (0,), (5,), (2, 3), (0, 4), (3, 1, 2)]


def _random_array(dtype, shape, rng):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return (rng.standard_normal(shape) * 100).astype(dtype)


def _assert_same(expected, got):
    assert got.shape == expected.shape
    if expected.dtype.kind in "SUO":
        assert got.dtype == object
        want = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in expected.reshape(-1).tolist()]
        assert got.reshape(-1).tolist() == want
    else:
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def _leftovers(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith((".tmp", ".prev")))


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", NUMERIC_DTYPES)
def test_round_trip_every_numeric_dtype_and_shape(tmp_path, dtype):
    rng = np.random.default_rng(0)
    tensors = {
        f"t{i}/{'x'.join(map(str, s)) or 'scalar'}": _random_array(dtype, s, rng)
        for i, s in enumerate(SHAPES)
    }
    prefix = str(tmp_path / "model.ckpt-7")
    assert checkpoint_io.write_checkpoint(prefix, tensors) == prefix
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt-7" + DATA, "model.ckpt-7.index"]
    got = checkpoint_io.read_checkpoint(prefix)
    assert sorted(got) == sorted(tensors)
    for name, arr in tensors.items():
        _assert_same(arr, got[name])
    assert checkpoint_io.list_checkpoint(prefix) == {n: (dtype, a.shape) for n, a in tensors.items()}


def test_round_trip_strings_scalars_and_mixed(tmp_path):
    tensors = {
        "s/objects": np.array(
            [b"abc", "h\u00e9llo \u2603", b"", b"nul\x00inside", b"\xff\xfe"], dtype=object
        ),
        "s/scalar": np.array(b"just one", dtype=object),
        "s/empty": np.empty((0, 2), dtype=object),
        "s/unicode_dtype": np.array([["a", "bc"], ["", "\u00fc"]]),
        "s/bytes_dtype": np.array([b"x", b"yz"]),
        "python/float": 1.5,
        "python/int": 3,
        "python/list": [[1.0, 2.0], [3.0, 4.0]],
        "global_step": np.int64(1000),
        "nan_inf": np.array([np.nan, np.inf, -np.inf, -0.0], np.float32),
        "non_contiguous": np.arange(24, dtype=np.int32).reshape(4, 6)[:, ::2].T,
        "big_endian": np.arange(5, dtype=">f8"),
    }
    prefix = tmp_path / "run" / "model.ckpt"
    prefix.parent.mkdir()
    checkpoint_io.write_checkpoint(prefix, tensors)  # a PathLike prefix works too
    got = checkpoint_io.read_checkpoint(str(prefix))
    for name, value in tensors.items():
        if name != "big_endian":
            _assert_same(np.asarray(value), got[name])
    assert got["big_endian"].dtype == np.float64 and got["big_endian"].tolist() == [0, 1, 2, 3, 4]
    assert got["s/scalar"].shape == () and got["s/scalar"][()] == b"just one"
    listing = checkpoint_io.list_checkpoint(prefix)
    assert listing["s/objects"] == ("string", (5,))
    assert listing["global_step"] == ("int64", ())
    assert listing["python/float"] == ("float64", ())


def test_empty_checkpoint_and_subset_reads(tmp_path):
    prefix = str(tmp_path / "empty")
    checkpoint_io.write_checkpoint(prefix, {})
    assert checkpoint_io.read_checkpoint(prefix) == {}
    prefix = str(tmp_path / "some")
    checkpoint_io.write_checkpoint(prefix, {"a": np.ones(3), "b": np.zeros(2, np.int8), "c": np.array(True)})
    got = checkpoint_io.read_checkpoint(prefix, names=["c", "a"])
    assert list(got) == ["c", "a"]
    with pytest.raises(errors.NotFoundError, match="Key nope not found in checkpoint"):
        checkpoint_io.read_checkpoint(prefix, names=["a", "nope"])


def test_unsupported_values_are_rejected_before_anything_is_written(tmp_path):
    prefix = str(tmp_path / "bad")
    with pytest.raises(TypeError, match="'x'.*datetime64"):
        checkpoint_io.write_checkpoint(
            prefix, {"ok": np.ones(2), "x": np.array(["2020-01-01"], "datetime64[D]")}
        )
    with pytest.raises(TypeError, match="'s'.*bytes or str"):
        checkpoint_io.write_checkpoint(prefix, {"s": np.array([b"a", None], dtype=object)})
    assert os.listdir(tmp_path) == []
    with pytest.raises(errors.NotFoundError, match="does not exist"):
        checkpoint_io.write_checkpoint(str(tmp_path / "no" / "such" / "dir" / "m"), {"a": np.ones(1)})


def test_rewrite_exists_and_remove(tmp_path):
    p1, p10 = str(tmp_path / "model.ckpt-1"), str(tmp_path / "model.ckpt-10")
    assert not checkpoint_io.checkpoint_exists(p1)
    checkpoint_io.write_checkpoint(p1, {"v": np.zeros(3)})
    checkpoint_io.write_checkpoint(p10, {"v": np.full(3, 10.0)})
    checkpoint_io.write_checkpoint(p1, {"v": np.ones(3), "w": np.ones(1, np.int32)})
    assert checkpoint_io.read_checkpoint(p1)["v"].tolist() == [1, 1, 1]
    assert checkpoint_io.checkpoint_exists(p1) and checkpoint_io.checkpoint_exists(p10)
    assert _leftovers(tmp_path) == []
    (tmp_path / "model.ckpt-1.meta").write_bytes(b"graph")
    checkpoint_io.remove_checkpoint(p1)
    checkpoint_io.remove_checkpoint(p1)  # nothing left to remove: no error
    assert not checkpoint_io.checkpoint_exists(p1)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt-10" + DATA, "model.ckpt-10.index"]
    assert checkpoint_io.read_checkpoint(p10)["v"].tolist() == [10, 10, 10]


def test_dead_writers_leftovers_are_ignored_then_cleaned(tmp_path):
    prefix = str(tmp_path / "model.ckpt-5")
    checkpoint_io.write_checkpoint(prefix, {"v": np.arange(4.0)})
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = [
        tmp_path / f".model.ckpt-5{DATA}.{dead_pid}.0badf00d.tmp",
        tmp_path / f".model.ckpt-5.index.{dead_pid}.1badf00d.tmp",
    ]
    live = tmp_path / f".model.ckpt-5.index.{os.getppid()}.2badf00d.tmp"  # a running process: kept
    for path in [*stale, live]:
        path.write_bytes(b"half a file")
    assert checkpoint_io.read_checkpoint(prefix)["v"].tolist() == [0, 1, 2, 3]
    checkpoint_io.write_checkpoint(prefix, {"v": np.arange(2.0)})
    assert _leftovers(tmp_path) == [live.name]
    os.utime(live, (time.time() - 2 * checkpoint_io.STALE_TEMP_SECONDS,) * 2)  # abandoned long ago
    checkpoint_io.write_checkpoint(prefix, {"v": np.arange(2.0)})
    assert _leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# Corruption: every fault names the file and what is wrong
# ---------------------------------------------------------------------------------------------


def _flip(path, offset):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x5A
    path.write_bytes(bytes(raw))


def _truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)


def _stale_data(data, index):
    # the data file of another save with identical shapes: same size, different write id
    other = data.parent / "other"
    checkpoint_io.write_checkpoint(
        other, {"layer1/weights": np.zeros((10, 10), np.float32), "step": np.int64(0)}
    )
    os.replace(str(other) + DATA, data)


def _append(path, extra):
    path.write_bytes(path.read_bytes() + extra)


TF_INDEX = b"\0" * 40 + bytes.fromhex("57fb808b247547db")  # how a TensorFlow (leveldb) index ends

# case: (damage(data, index), file the message must name, words it must contain); DataLossError but
# for the last case. The data file holds 24 header bytes, 'layer1/weights' (400) and 'step' (8).
CORRUPTIONS = {
    "truncated data": (lambda d, i: _truncate(d, 100), "data", "is truncated: expected 432 bytes, found 100"),
    "truncated data header": (lambda d, i: _truncate(d, 5), "data", "is truncated"),
    "empty data": (lambda d, i: _truncate(d, 0), "data", "is truncated: expected 432 bytes, found 0"),
    "data with trailing bytes": (
        lambda d, i: _append(d, b"x"),
        "data",
        "corrupt: expected 432 bytes, found 433",
    ),
    "truncated index": (lambda d, i: _truncate(i, 60), "index", "is truncated: expected"),
    "truncated index header": (
        lambda d, i: _truncate(i, 20),
        "index",
        "expected at least 48 bytes, found 20",
    ),
    "empty index": (lambda d, i: _truncate(i, 0), "index", "is truncated"),
    "index with trailing bytes": (lambda d, i: _append(i, b"x"), "index", "(trailing data)"),
    "flipped byte in tensor data": (
        lambda d, i: _flip(d, 418),
        "data",
        "checksum mismatch for tensor 'layer1/weights'",
    ),
    "flipped byte in data magic": (lambda d, i: _flip(d, 0), "data", "is corrupt: bad magic"),
    "flipped byte in index body": (lambda d, i: _flip(i, -10), "index", "checksum mismatch"),
    "flipped byte in index checksum": (lambda d, i: _flip(i, 20), "index", "checksum mismatch"),
    "flipped byte in index magic": (lambda d, i: _flip(i, 3), "index", "is corrupt: bad magic"),
    "garbage index": (lambda d, i: i.write_bytes(b"\x01" + os.urandom(300)), "index", "bad magic"),
    "TensorFlow index": (lambda d, i: i.write_bytes(TF_INDEX), "index", "is a TensorFlow checkpoint index"),
    "missing data file": (lambda d, i: d.unlink(), "data", "is missing"),
    "missing index file": (lambda d, i: i.unlink(), "index", "is missing"),
    "stale data file of another save": (_stale_data, "data", "does not belong to the index"),
    "nothing there": (
        lambda d, i: (d.unlink(), i.unlink()),
        "prefix",
        "Failed to find any matching files for",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_checkpoints_raise_naming_the_file(tmp_path, case):
    damage, culprit, words = CORRUPTIONS[case]
    error = errors.NotFoundError if case == "nothing there" else errors.DataLossError
    prefix = tmp_path / "model.ckpt-3"
    checkpoint_io.write_checkpoint(
        prefix, {"layer1/weights": np.ones((10, 10), np.float32), "step": np.int64(3)}
    )
    data, index = Path(str(prefix) + DATA), Path(str(prefix) + ".index")
    damage(data, index)
    named = {"data": str(data), "index": str(index), "prefix": str(prefix)}[culprit]
    readers = [checkpoint_io.read_checkpoint]
    if "tensor data" not in case:  # listing does not read tensor bytes
        readers.append(checkpoint_io.list_checkpoint)
    for reader in readers:
        with pytest.raises(error) as info:
            reader(str(prefix))
        message = str(info.value)
        assert named in message and words in message, message
        assert type(info.value) is error and info.value.message == message


# ---------------------------------------------------------------------------------------------
# The `checkpoint` state file
# ---------------------------------------------------------------------------------------------


def test_state_file_round_trip(tmp_path):
    d = str(tmp_path)
    assert checkpoint_state.get_checkpoint_state(d) is None
    assert checkpoint_state.latest_checkpoint(d) is None
    paths = [os.path.join(d, f"model.ckpt-{i}") for i in (1, 2, 3)]
    checkpoint_state.update_checkpoint_state(d, paths[-1], paths)
    text = (tmp_path / "checkpoint").read_text()
    assert text == (
        f'model_checkpoint_path: "{paths[2]}"\n'
        + "".join(f'all_model_checkpoint_paths: "{p}"\n' for p in paths)
    )
    state = checkpoint_state.get_checkpoint_state(d)
    assert state.model_checkpoint_path == paths[2]
    assert state.all_model_checkpoint_paths == paths
    assert str(state) == text
    # latest_checkpoint needs the newest checkpoint's index file
    assert checkpoint_state.latest_checkpoint(d) is None
    checkpoint_io.write_checkpoint(paths[2], {"v": np.zeros(1)})
    assert checkpoint_state.latest_checkpoint(d) == paths[2]
    assert _leftovers(tmp_path) == []
    # the newest path is appended when the list does not end with it; another state file name
    checkpoint_state.update_checkpoint_state(d, paths[0], paths[1:], latest_filename="best")
    state = checkpoint_state.get_checkpoint_state(d, latest_filename="best")
    assert state.all_model_checkpoint_paths == [paths[1], paths[2], paths[0]]
    with pytest.raises(RuntimeError, match="conflicts with path used for checkpoint state"):
        checkpoint_state.update_checkpoint_state(d, os.path.join(d, "checkpoint"), [])


def test_state_file_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkdir("run")
    # a relative save directory: TF writes paths relative to it, readers join them back
    checkpoint_state.update_checkpoint_state(
        "run", "run/model.ckpt-2", ["run/model.ckpt-1", "run/model.ckpt-2"]
    )
    assert Path("run/checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-2"\n'
        'all_model_checkpoint_paths: "model.ckpt-1"\nall_model_checkpoint_paths: "model.ckpt-2"\n'
    )
    state = checkpoint_state.get_checkpoint_state("run")
    assert state.model_checkpoint_path == os.path.join("run", "model.ckpt-2")
    # save_relative_paths=True (a Saver option): absolute paths become relative to the directory
    save_dir = str(tmp_path / "run")
    checkpoint_state.update_checkpoint_state(
        save_dir,
        f"{save_dir}/m-9",
        [f"{save_dir}/m-8", "/elsewhere/m-7", f"{save_dir}/m-9"],
        save_relative_paths=True,
    )
    assert Path("run/checkpoint").read_text() == (
        'model_checkpoint_path: "m-9"\nall_model_checkpoint_paths: "m-8"\n'
        f'all_model_checkpoint_paths: "{os.path.relpath("/elsewhere/m-7", save_dir)}"\n'
        'all_model_checkpoint_paths: "m-9"\n'
    )
    state = checkpoint_state.get_checkpoint_state(save_dir)
    assert state.model_checkpoint_path == os.path.join(save_dir, "m-9")


def test_state_file_parsing_is_tolerant_and_errors_name_the_file(tmp_path):
    path = tmp_path / "checkpoint"
    path.write_text(
        "# written by hand\n"
        'model_checkpoint_path: \'a/b\\"c\\303\\251\'  all_model_checkpoint_paths: ["x" "y", \'/abs\']\n'
        "all_model_checkpoint_timestamps: 1.5 last_preserved_timestamp: 2e3;\n"
    )
    state = checkpoint_state.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == os.path.join(str(tmp_path), 'a/b"c\u00e9')
    assert state.all_model_checkpoint_paths == [os.path.join(str(tmp_path), "xy"), "/abs"]
    assert state.all_model_checkpoint_timestamps == [1.5] and state.last_preserved_timestamp == 2000.0
    for text, words in [
        ('model_checkpoint_path: "unterminated\n', "line 1"),
        ('model_checkpoint_path: "ok"\nbogus_field: "x"\n', 'line 2: unknown field "bogus_field"'),
        ("model_checkpoint_path 'no colon'\n", "expected ':'"),
        ("model_checkpoint_path: 12\n", "expected a quoted string"),
        ("all_model_checkpoint_timestamps: 'x'\n", "expected a number"),
        ('model_checkpoint_path: "\xff"\n', None),
    ]:
        path.write_bytes(text.encode("latin-1"))
        with pytest.raises(ValueError, match="Malformed checkpoint state file") as info:
            checkpoint_state.get_checkpoint_state(str(tmp_path))
        assert str(path) in str(info.value) and (words is None or words in str(info.value)), info.value
    path.write_text("")
    with pytest.raises(ValueError, match="Invalid checkpoint state loaded from"):
        checkpoint_state.get_checkpoint_state(str(tmp_path))


# ---------------------------------------------------------------------------------------------
# Against real TensorFlow
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf = pytest.importorskip("tensorflow", reason="real TensorFlow is not installed: no comparison possible")
    return tf


@pytest.mark.tensorflow
def test_state_file_is_byte_identical_to_tensorflow_saver(real_tf, tmp_path):
    v1 = real_tf.compat.v1
    with real_tf.Graph().as_default():
        v = v1.get_variable("v", initializer=[1.0, 2.0])
        saver = v1.train.Saver(max_to_keep=2)
        with v1.Session() as sess:
            sess.run(v.initializer)
            saved = [
                saver.save(sess, str(tmp_path / "model.ckpt"), global_step=s, write_meta_graph=False)
                for s in (1, 2, 3)
            ]
    tf_text = (tmp_path / "checkpoint").read_bytes()
    checkpoint_state.update_checkpoint_state(str(tmp_path), saved[-1], saved[-2:])
    assert (tmp_path / "checkpoint").read_bytes() == tf_text
    assert tf_text.decode() == (
        f'model_checkpoint_path: "{saved[2]}"\n'
        f'all_model_checkpoint_paths: "{saved[1]}"\nall_model_checkpoint_paths: "{saved[2]}"\n'
    )
    assert (
        checkpoint_state.latest_checkpoint(str(tmp_path))
        == saved[2]
        == real_tf.train.latest_checkpoint(str(tmp_path))
    )


STATE_CASES = [
    # save_dir, newest path, kept paths, save_relative_paths, timestamps, last preserved timestamp
    ("{d}", "{d}/model.ckpt-3", ["{d}/model.ckpt-2", "{d}/model.ckpt-3"], False, None, None),
    ("{d}", "{d}/m-1", ["/elsewhere/m-0", "rel/x"], False, None, None),
    ("{d}", "{d}/m-2", ["{d}/m-1", "/elsewhere/m-0", "{d}/m-2"], True, None, None),
    ("{d}", "{d}/we\"ird\n\t\\path \u00e9\u2603\x01\x7f'", [], False, None, None),
    ("{d}", "{d}/m-2", ["{d}/m-1", "{d}/m-2"], False, [1.5, 1732623456.789012], 17.0),
    ("{d}", "{d}/m-2", ["{d}/m-2"], False, [float("inf")], 1e20),
    ("rel_dir", "rel_dir/m-5", ["rel_dir/m-4", "/abs/m-3", "rel_dir/m-5"], False, None, None),
    ("rel_dir", "/abs/m-5", ["other/m-4"], True, None, None),
]


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", range(len(STATE_CASES)))
def test_state_file_matches_tensorflow_for_the_same_arguments(real_tf, tmp_path, monkeypatch, case):
    from tensorflow.python.checkpoint import checkpoint_management as tf_cm

    monkeypatch.chdir(tmp_path)
    os.mkdir("rel_dir")
    d = str(tmp_path / "abs_dir")
    os.mkdir(d)
    save_dir, model, paths, relative, stamps, preserved = STATE_CASES[case]
    save_dir, model, paths = save_dir.format(d=d), model.format(d=d), [p.format(d=d) for p in paths]
    tf_cm.update_checkpoint_state_internal(
        save_dir, model, list(paths), save_relative_paths=relative,
        all_model_checkpoint_timestamps=stamps, last_preserved_timestamp=preserved,
    )  # fmt: skip
    tf_bytes = Path(save_dir, "checkpoint").read_bytes()
    tf_state = real_tf.train.get_checkpoint_state(save_dir)
    os.remove(Path(save_dir, "checkpoint"))
    checkpoint_state.update_checkpoint_state(
        save_dir, model, paths, save_relative_paths=relative,
        all_model_checkpoint_timestamps=stamps, last_preserved_timestamp=preserved,
    )  # fmt: skip
    assert Path(save_dir, "checkpoint").read_bytes() == tf_bytes
    ours = checkpoint_state.get_checkpoint_state(save_dir)
    again = real_tf.train.get_checkpoint_state(save_dir)  # TF parses the file we wrote
    for theirs in (tf_state, again):
        assert ours.model_checkpoint_path == theirs.model_checkpoint_path
        assert ours.all_model_checkpoint_paths == list(theirs.all_model_checkpoint_paths)
        assert ours.all_model_checkpoint_timestamps == list(theirs.all_model_checkpoint_timestamps)
        assert ours.last_preserved_timestamp == theirs.last_preserved_timestamp


# ---------------------------------------------------------------------------------------------
# Atomicity: SIGKILL at any moment leaves every committed checkpoint readable, old or new
# ---------------------------------------------------------------------------------------------


def small(g):
    """A small checkpoint whose every element encodes generation g."""
    return {
        "layer1/weights": np.full((3, 4), g, np.float32),
        "layer1/biases": np.full(4, g, np.float64),
        "global_step": np.int64(g),
        "names": np.array([str(g).encode()] * 3, dtype=object),
        "flag": np.array(g % 2 == 1),
    }


def _generation(tensors, expected_names):
    assert sorted(tensors) == sorted(expected_names)
    gens = set()
    for name, arr in tensors.items():
        if name == "flag":
            continue
        if arr.dtype == object:
            gens |= {int(x) for x in arr.reshape(-1).tolist()}
        else:
            gens |= {float(arr.min()), float(arr.max())}
    assert len(gens) == 1, f"a mix of generations {sorted(gens)}"
    g = int(gens.pop())
    if "flag" in tensors:
        assert bool(tensors["flag"]) == (g % 2 == 1)
    return g


# Starting a Python that imports numpy and tfcore takes about a second; the kill tests need dozens
# of writer processes. So one helper process imports everything once and forks each writer: a real,
# separate process with its own pid, killed with SIGKILL like any other. Writers `say` progress
# lines to the helper's stdout, which the test reads.
FORK_SERVER = """
import json, os, signal, sys, traceback
import numpy as np
from tfcore.train import checkpoint_io as io
from tfcore.train import checkpoint_state as cs
def say(*words):  # one write per line: a SIGKILL cannot leave half a line in the pipe
    os.write(1, (" ".join(map(str, words)) + "\\n").encode())
workers = set()
for line in sys.stdin:
    request = json.loads(line)
    if "wait" in request:
        _, status = os.waitpid(request["wait"], 0)
        workers.discard(request["wait"])
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        say("exit", request["wait"], code)
        continue
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            sys.argv = ["writer", *request["argv"]]
            say("pid", os.getpid())
            code_object = compile(request["source"], "<writer>", "exec")
            exec(code_object, {"__name__": "__writer__", "io": io, "cs": cs, "say": say})
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            say("writer-exit", code)
            os._exit(code)
    workers.add(pid)
for pid in workers:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
"""


class _Writer:
    """A writer process forked by the fork server: read its lines, kill it, wait for it."""

    def __init__(self, server, pid):
        self.server, self.pid, self.returncode = server, pid, None

    def readline(self):
        line = self.server.readline(self)
        assert not line.startswith("writer-exit"), "the writer died on its own (see its stderr)"
        return line

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)

    def wait(self):
        """Reap the writer; returns the lines it printed that were not read yet."""
        self.server.send({"wait": self.pid})
        lines = []
        while not (line := self.server.readline(self)).startswith(f"exit {self.pid} "):
            lines.append(line)
        self.returncode = int(line.split()[2])
        return [line for line in lines if not line.startswith("writer-exit")]


class _ForkServer:
    TIMEOUT = 60.0  # seconds without a line from the server or its writer: fail instead of hanging

    def __init__(self):
        path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, PYTHONPATH=path, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=env,
        )
        self.pending = b""
        self.writer = None

    def send(self, request):
        self.proc.stdin.write((json.dumps(request) + "\n").encode())

    def readline(self, writer=None):
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.TIMEOUT
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                state = "no writer" if writer is None else f"writer {writer.pid} {_process_state(writer.pid)}"
                raise AssertionError(f"no output from the fork server for {self.TIMEOUT:.0f} s ({state})")
            chunk = os.read(fd, 1 << 16)
            assert chunk, "the fork server died"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def start(self, script, *args):
        if self.writer is not None and self.writer.returncode is None:  # left running by a failed test
            with contextlib.suppress(ProcessLookupError):
                self.writer.kill()
            self.writer.wait()
        source = "\n".join(["import os, signal, sys", "import numpy as np", inspect.getsource(small), script])
        self.send({"source": source, "argv": [str(a) for a in args]})
        first = self.readline()
        assert first.startswith("pid "), first
        self.writer = _Writer(self, int(first.split()[1]))
        return self.writer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _process_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return "in state " + f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@pytest.fixture(scope="module")
def fork_server():
    if os.name != "posix":
        pytest.skip("needs fork and SIGKILL")
    server = _ForkServer()
    yield server
    server.close()


STEP_KILLER = """
prefix, g, kill_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
calls = 0
def counted(fn):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return wrapper
for name in ("replace", "rename", "link", "fsync", "remove", "unlink"):
    setattr(os, name, counted(getattr(os, name)))
io.write_checkpoint(prefix, small(g))
say("calls", calls)
"""


@pytest.mark.parametrize("existing", [True, False], ids=["rewrite", "first-write"])
def test_kill_at_every_file_operation_of_a_write(tmp_path, fork_server, existing):
    """Kill the writer just before each rename/link/fsync/remove it makes, one after the other."""
    prefix = str(tmp_path / "model.ckpt-1")
    other = str(tmp_path / "model.ckpt-0")
    checkpoint_io.write_checkpoint(other, small(99))
    if existing:
        checkpoint_io.write_checkpoint(prefix, small(1))
    kill_at, steps = 1, None
    while steps is None:
        writer = fork_server.start(STEP_KILLER, prefix, 2, kill_at)
        lines = writer.wait()
        if writer.returncode == 0:
            steps = int(lines[0].split()[1])
        else:
            assert writer.returncode == -signal.SIGKILL
        if existing or checkpoint_io.checkpoint_exists(prefix):
            got = _generation(checkpoint_io.read_checkpoint(prefix), small(0))
            assert got in ((1, 2) if existing else (2,)), (kill_at, got)
        else:
            with pytest.raises((errors.NotFoundError, errors.DataLossError), match="model.ckpt-1"):
                checkpoint_io.read_checkpoint(prefix)
        assert _generation(checkpoint_io.read_checkpoint(other), small(0)) == 99
        if existing:
            checkpoint_io.write_checkpoint(prefix, small(1))  # also removes what the dead writer left
        else:
            checkpoint_io.remove_checkpoint(prefix)
        assert _leftovers(tmp_path) == []
        kill_at += 1
    assert steps >= (9 if existing else 6), steps  # renames, fsyncs, the link and the cleanup: all hit


LOOP_WRITER = """
d, g = sys.argv[1], int(sys.argv[2])
a, b = os.path.join(d, "a.ckpt"), os.path.join(d, "b.ckpt-1")
big = {f"layer{i}/weights": np.empty(2_500_000, np.float32) for i in range(4)}  # 40 MB
say("A start", g)
io.write_checkpoint(a, small(g))
say("A done", g)
while True:
    g += 1
    for arr in big.values():
        arr.fill(g)
    say("B start", g)
    io.write_checkpoint(b, big)
    say("B done", g)
    say("S start", g)
    cs.update_checkpoint_state(d, b, [a, b])
    say("S done", g)
    say("A start", g)
    io.write_checkpoint(a, small(g))
    say("A done", g)
"""


def test_sigkill_at_random_moments_during_big_writes(tmp_path, fork_server):
    rng = random.Random(1234)
    d = str(tmp_path)
    a, b = os.path.join(d, "a.ckpt"), os.path.join(d, "b.ckpt-1")
    big_names = [f"layer{i}/weights" for i in range(4)]
    known = {"A": None, "B": None}  # the generation each prefix holds (None: never committed)
    durations = {"A": [0.02], "B": [0.1], "S": []}  # seconds a write takes, refined as observed
    mid_write = 0
    for round_ in range(12):
        writer = fork_server.start(LOOP_WRITER, d, 1000 * (round_ + 1))
        target, nth = "AB"[round_ % 2], rng.randint(1, 2)
        lines, seen, began = [], 0, {}
        while seen < nth:
            lines.append(writer.readline().split())
            key, what = lines[-1][:2]
            if what == "start":
                began[key] = time.perf_counter()
            elif key in began:
                durations[key].append(time.perf_counter() - began[key])
            seen += lines[-1][:2] == [target, "start"]
        # kill a random moment into the write that just began (it prints "start" first)
        time.sleep(rng.uniform(0, 1.1 * statistics.median(durations[target])))
        writer.kill()
        lines += [line.split() for line in writer.wait()]
        assert writer.returncode == -signal.SIGKILL
        mid_write += lines[-1][:2] == [target, "start"]
        for key, prefix, names in (("A", a, list(small(0))), ("B", b, big_names)):
            started = {int(g) for k, what, g in lines if k == key and what == "start"}
            done = {int(g) for k, what, g in lines if k == key and what == "done"}
            allowed = ({max(done)} if done else {known[key]}) | (started - done)
            if known[key] is None and not done:  # never committed before: may be absent
                try:
                    tensors = checkpoint_io.read_checkpoint(prefix)
                except (errors.NotFoundError, errors.DataLossError) as e:
                    assert prefix in str(e)
                    continue
            else:
                tensors = checkpoint_io.read_checkpoint(prefix)  # committed: must read cleanly
            got = _generation(tensors, names)
            assert got in allowed, (key, got, allowed, round_, lines[-3:])
            known[key] = got
        state = checkpoint_state.get_checkpoint_state(d)  # absent until the first update, then whole
        assert state is None or (
            state.model_checkpoint_path == b and state.all_model_checkpoint_paths == [a, b]
        )
    assert known["A"] is not None and known["B"] is not None
    assert mid_write >= 6, f"only {mid_write} of 12 kills landed inside a write"
    # the dead writers' temporary files never confused a reader; the next good writes remove them
    checkpoint_io.write_checkpoint(a, small(1))
    checkpoint_io.write_checkpoint(b, {n: np.zeros(1, np.float32) for n in big_names})
    checkpoint_state.update_checkpoint_state(d, b, [a, b])
    assert _leftovers(d) == []
    names = ["a.ckpt" + DATA, "a.ckpt.index", "b.ckpt-1" + DATA, "b.ckpt-1.index", "checkpoint"]
    assert sorted(os.listdir(d)) == names


STATE_WRITER = """
d, g = sys.argv[1], int(sys.argv[2])
while True:
    g += 1
    paths = [os.path.join(d, f"model.ckpt-{i}") for i in range(g, g + 400)]
    say("start", g)
    cs.update_checkpoint_state(d, paths[-1], paths)
    say("done", g)
"""


def test_sigkill_during_update_checkpoint_state(tmp_path, fork_server):
    rng = random.Random(99)
    d = str(tmp_path)
    for round_ in range(10):
        writer = fork_server.start(STATE_WRITER, d, 10_000 * round_)
        wanted, done = rng.randint(1, 10), 0
        while done < wanted:  # at least one update has completed: the file must exist from now on
            done += writer.readline().startswith("done")
        time.sleep(rng.choice([0.0, 0.0005, 0.001, 0.003]))
        writer.kill()
        writer.wait()
        state = checkpoint_state.get_checkpoint_state(d)  # parses: never a partial file
        assert state is not None
        first = int(state.all_model_checkpoint_paths[0].rsplit("-", 1)[1])
        expected = [os.path.join(d, f"model.ckpt-{i}") for i in range(first, first + 400)]
        assert state.all_model_checkpoint_paths == expected
        assert state.model_checkpoint_path == expected[-1]
    checkpoint_state.update_checkpoint_state(d, os.path.join(d, "m"), [])
    assert os.listdir(d) == ["checkpoint"]
