"""TF1's program helpers in tfcore.platform: flags, app.run, logging and gfile."""

import logging
import os
import sys
import types

import pytest

from tfcore.framework import errors
from tfcore.platform import app, flags, gfile, tf_logging

# ----------------------------------------------------------------------------------------------------
# flags


@pytest.fixture
def fv():
    """A private FlagValues with one flag of each kind."""
    values = flags.FlagValues()
    flags.DEFINE_string("data_dir", "/tmp/data", "Where the data is.", flag_values=values)
    flags.DEFINE_integer("max_steps", 1000, "Steps.", flag_values=values)
    flags.DEFINE_float("learning_rate", 0.01, "Rate.", flag_values=values)
    flags.DEFINE_boolean("fake_data", False, "Fake it.", flag_values=values)
    flags.DEFINE_bool("verbose", True, "Talk.", flag_values=values)
    flags.DEFINE_list("layers", "64,32", "Sizes.", flag_values=values)
    flags.DEFINE_enum("optimizer", "sgd", ["sgd", "adam"], "Which.", flag_values=values)
    return values


@pytest.fixture
def global_flags():
    """Restore the process-wide FLAGS after the test."""
    saved = dict(flags.FLAGS._flags)
    parsed = flags.FLAGS.is_parsed()
    yield flags.FLAGS
    flags.FLAGS._flags.clear()
    flags.FLAGS._flags.update(saved)
    object.__setattr__(flags.FLAGS, "_parsed", parsed)


def test_defaults_and_types(fv):
    fv.mark_as_parsed()
    assert fv.data_dir == "/tmp/data" and fv.max_steps == 1000 and fv.learning_rate == 0.01
    assert fv.fake_data is False and fv.verbose is True
    assert fv.layers == ["64", "32"] and fv.optimizer == "sgd"
    assert fv.flag_values_dict()["max_steps"] == 1000
    assert getattr(fv, "__flags")["data_dir"] == "/tmp/data"  # TF <= 1.4's FLAGS.__flags
    assert "max_steps" in fv and fv["max_steps"].default == 1000
    with pytest.raises(AttributeError):
        _ = fv.undefined_flag


def test_parse_forms_and_leftovers(fv):
    rest = fv(["prog", "--data_dir=/x", "--max_steps", "20", "-learning_rate=0.5", "--fake_data",
               "--noverbose", "--layers=a,b,c", "--optimizer=adam", "pos1", "-f", "/run/kernel.json",
               "--unknown=3", "--", "--max_steps=7"])
    assert fv.data_dir == "/x" and fv.max_steps == 20 and fv.learning_rate == 0.5
    assert fv.fake_data is True and fv.verbose is False
    assert fv.layers == ["a", "b", "c"] and fv.optimizer == "adam"
    assert rest == ["prog", "pos1", "-f", "/run/kernel.json", "--unknown=3", "--max_steps=7"]
    fv(["prog", "--fake_data=false", "--verbose=1", "--learning_rate", "-2e-3"])
    assert fv.fake_data is False and fv.verbose is True and fv.learning_rate == -0.002


def test_bad_values(fv):
    with pytest.raises(flags.IllegalFlagValueError, match="max_steps"):
        fv(["prog", "--max_steps=many"])
    with pytest.raises(flags.IllegalFlagValueError, match="sgd|adam"):
        fv(["prog", "--optimizer=rmsprop"])
    with pytest.raises(flags.IllegalFlagValueError, match="needs a value"):
        fv(["prog", "--data_dir"])
    with pytest.raises(flags.UnrecognizedFlagError):
        fv(["prog", "--nope=1"], known_only=False)
    flags.DEFINE_integer("batch", 10, "Batch.", lower_bound=1, flag_values=fv)
    with pytest.raises(flags.IllegalFlagValueError, match=">= 1"):
        fv(["prog", "--batch=0"])


def test_unparsed_access_parses_argv_leniently(fv, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/root/.local/kernel-1.json"])
    assert fv.max_steps == 1000 and fv.is_parsed()  # Jupyter's argv is ignored, defaults stand
    other = flags.FlagValues()
    flags.DEFINE_integer("max_steps", 5, "Steps.", flag_values=other)
    monkeypatch.setattr(sys, "argv", ["train.py", "--max_steps=7"])
    assert other.max_steps == 7  # as TF1: the first access parses sys.argv


def test_assignment_and_redefinition(fv):
    fv.max_steps = 3
    assert fv.max_steps == 3
    fv.max_steps = "4"
    assert fv.max_steps == 4
    with pytest.raises(AttributeError):
        fv.not_defined = 1
    flags.DEFINE_integer("max_steps", 9, "Steps again.", flag_values=fv)  # a re-run notebook cell
    assert fv.max_steps == 9


def test_module_level_flags_and_app_run(global_flags, capsys):
    flags.DEFINE_integer("tfcore_test_steps", 5, "Steps.")
    seen = []

    def main(argv):
        seen.append((list(argv), flags.FLAGS.tfcore_test_steps))
        return 3

    with pytest.raises(SystemExit) as info:
        app.run(main=main, argv=["prog", "--tfcore_test_steps=8", "extra", "--other=1"])
    assert info.value.code == 3
    assert seen == [(["prog", "extra", "--other=1"], 8)]
    assert app.flags is flags and flags.FLAGS.tfcore_test_steps == 8

    with pytest.raises(SystemExit) as info:
        app.run(main=main, argv=["prog", "--tfcore_test_steps=x"])
    assert info.value.code == 1 and "tfcore_test_steps" in capsys.readouterr().err

    with pytest.raises(SystemExit) as info:
        app.run(main=main, argv=["prog", "--help"])
    assert info.value.code == 0 and "--tfcore_test_steps: Steps." in capsys.readouterr().out


def test_app_run_uses_main_of_main_module(global_flags, monkeypatch):
    module = types.ModuleType("__main__")
    module.main = lambda argv: None
    monkeypatch.setitem(sys.modules, "__main__", module)
    monkeypatch.setattr(sys, "argv", ["prog"])
    with pytest.raises(SystemExit) as info:
        app.run()
    assert info.value.code is None


# ----------------------------------------------------------------------------------------------------
# logging


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


@pytest.fixture
def log_records():
    logger = tf_logging.get_logger()
    handler = _Collect()
    old = logger.level
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_logging_levels(log_records):
    assert (tf_logging.DEBUG, tf_logging.INFO, tf_logging.WARN, tf_logging.ERROR, tf_logging.FATAL) == (
        10, 20, 30, 40, 50)
    assert tf_logging.WARNING == tf_logging.WARN
    assert tf_logging.get_logger().name == "tfcore"
    tf_logging.set_verbosity(tf_logging.WARN)
    assert tf_logging.get_verbosity() == tf_logging.WARN
    tf_logging.info("hidden")
    tf_logging.warn("shown %d", 1)
    tf_logging.set_verbosity(tf_logging.INFO)
    assert tf_logging.get_verbosity() == tf_logging.INFO
    tf_logging.debug("hidden too")
    tf_logging.info("step %d: loss %.2f", 3, 0.5)
    tf_logging.warning("w")
    tf_logging.error("e")
    tf_logging.fatal("f")  # logs, does not exit
    tf_logging.log(tf_logging.ERROR, "l")
    tf_logging.set_verbosity(tf_logging.DEBUG)
    tf_logging.debug("d")
    assert log_records == [(30, "shown 1"), (20, "step 3: loss 0.50"), (30, "w"), (40, "e"), (50, "f"),
                           (40, "l"), (10, "d")]


def test_log_every_and_first_n(log_records):
    tf_logging.set_verbosity(tf_logging.INFO)
    for i in range(7):
        tf_logging.log_every_n(tf_logging.INFO, "every %d", 3, i)
    for i in range(5):
        tf_logging.log_first_n(tf_logging.INFO, "first %d", 2, i)
    tf_logging.log_if(tf_logging.INFO, "if", False)
    assert [m for _, m in log_records] == ["every 0", "every 3", "every 6", "first 0", "first 1"]


# ----------------------------------------------------------------------------------------------------
# gfile


def test_gfile_files_and_directories(tmp_path):
    root = str(tmp_path / "a")
    gfile.MakeDirs(os.path.join(root, "b", "c"))
    gfile.MakeDirs(os.path.join(root, "b", "c"))  # exists: fine
    assert gfile.Exists(root) and gfile.IsDirectory(os.path.join(root, "b"))
    path = os.path.join(root, "notes.txt")
    with gfile.GFile(path, "w") as f:
        f.write("one\ntwo\n")
    with gfile.Open(path) as f:
        assert f.readline() == "one\n" and list(f) == ["two\n"]
    with gfile.GFile(path, "rb") as f:
        assert f.read(3) == b"one" and f.tell() == 3 and f.size() == 8
        f.seek(0)
        assert f.read() == b"one\ntwo\n"
    with gfile.GFile(path, "a") as f:
        f.write("three\n")
    assert gfile.GFile(path).readlines() == ["one\n", "two\n", "three\n"]
    assert gfile.Stat(path).length == 14 and not gfile.Stat(path).is_directory
    assert gfile.Stat(root).is_directory

    gfile.Copy(path, os.path.join(root, "copy.txt"))
    with pytest.raises(errors.AlreadyExistsError):
        gfile.Copy(path, os.path.join(root, "copy.txt"))
    gfile.Copy(path, os.path.join(root, "copy.txt"), overwrite=True)
    gfile.Rename(os.path.join(root, "copy.txt"), os.path.join(root, "moved.txt"))
    with pytest.raises(errors.AlreadyExistsError):
        gfile.Rename(os.path.join(root, "moved.txt"), path)
    assert gfile.ListDirectory(root) == ["b", "moved.txt", "notes.txt"]
    assert gfile.Glob(os.path.join(root, "*.txt")) == [os.path.join(root, "moved.txt"), path]
    assert gfile.Glob(os.path.join(root, "nothing", "*")) == []
    walked = list(gfile.Walk(root))
    assert walked[0] == (root, ["b"], ["moved.txt", "notes.txt"])

    gfile.MkDir(os.path.join(root, "d"))
    gfile.Remove(os.path.join(root, "moved.txt"))
    assert not gfile.Exists(os.path.join(root, "moved.txt"))
    gfile.DeleteRecursively(os.path.join(root, "b"))
    assert gfile.ListDirectory(root) == ["d", "notes.txt"]


def test_gfile_errors(tmp_path):
    missing = str(tmp_path / "missing")
    for call in (lambda: gfile.GFile(missing), lambda: gfile.Remove(missing),
                 lambda: gfile.ListDirectory(missing), lambda: gfile.DeleteRecursively(missing),
                 lambda: gfile.Stat(missing), lambda: gfile.MkDir(os.path.join(missing, "x")),
                 lambda: gfile.Rename(missing, missing + "2"), lambda: gfile.Copy(missing, missing + "2"),
                 lambda: gfile.GFile(os.path.join(missing, "f.txt"), "w")):
        with pytest.raises(errors.NotFoundError) as info:
            call()
        assert "missing" in str(info.value) and isinstance(info.value, errors.OpError)
    with pytest.raises(errors.FailedPreconditionError):
        gfile.Remove(str(tmp_path))
    file = tmp_path / "f.txt"
    file.write_text("x")
    with pytest.raises(errors.FailedPreconditionError):
        gfile.MakeDirs(str(file / "sub"))
    with gfile.GFile(str(file), "w") as f, pytest.raises(errors.PermissionDeniedError):
        f.read()
    with gfile.GFile(str(file)) as f, pytest.raises(errors.PermissionDeniedError):
        f.write("y")


def test_gfile_lowercase_names():
    pairs = {"exists": "Exists", "makedirs": "MakeDirs", "mkdir": "MkDir", "glob": "Glob",
             "rmtree": "DeleteRecursively", "listdir": "ListDirectory", "isdir": "IsDirectory",
             "remove": "Remove", "rename": "Rename", "copy": "Copy", "stat": "Stat", "walk": "Walk"}
    for lower, upper in pairs.items():
        assert getattr(gfile, lower) is getattr(gfile, upper)
    assert gfile.FastGFile is gfile.GFile is gfile.Open
