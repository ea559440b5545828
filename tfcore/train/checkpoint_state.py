"""The ``checkpoint`` state file: which checkpoints of a directory are kept, and which is the newest.

TensorFlow stores a `CheckpointState` protocol buffer in text format; this module writes the same
bytes without protobuf and reads what TensorFlow writes (both directions are tested against real
TensorFlow). A typical file, as `tf.train.Saver(max_to_keep=2)` leaves it::

    model_checkpoint_path: "/tmp/run/model.ckpt-3"
    all_model_checkpoint_paths: "/tmp/run/model.ckpt-2"
    all_model_checkpoint_paths: "/tmp/run/model.ckpt-3"

Paths are written as TensorFlow writes them: as given (so absolute for an absolute save path, the
TF1 `Saver` default); relative to the save directory when the save directory itself is relative
(TF rewrites relative paths with `os.path.relpath`) or when `save_relative_paths=True` (then
absolute paths are rewritten too). Readers join relative paths with the directory they read from.
Optional ``all_model_checkpoint_timestamps`` / ``last_preserved_timestamp`` lines (written by TF's
`CheckpointManager`) are read and written too. Strings are escaped as protobuf's text format does.

The file is replaced atomically (temporary file, fsync, `os.replace`, directory fsync), so a
process killed while updating it leaves either the old or the new state, never a partial file.
"""

import logging
import os
import re

from tfcore.train.checkpoint_io import atomic_write_bytes, index_path

DEFAULT_LATEST_FILENAME = "checkpoint"

_log = logging.getLogger(__name__)


class CheckpointState:
    """What the ``checkpoint`` file holds (TF's `CheckpointState` proto, as a plain object)."""

    def __init__(
        self,
        model_checkpoint_path="",
        all_model_checkpoint_paths=None,
        all_model_checkpoint_timestamps=None,
        last_preserved_timestamp=0.0,
    ):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths or [])
        self.all_model_checkpoint_timestamps = [float(t) for t in all_model_checkpoint_timestamps or []]
        self.last_preserved_timestamp = float(last_preserved_timestamp or 0.0)

    def _key(self):
        return (
            self.model_checkpoint_path,
            list(self.all_model_checkpoint_paths),
            list(self.all_model_checkpoint_timestamps),
            self.last_preserved_timestamp,
        )

    def __eq__(self, other):
        if not isinstance(other, CheckpointState):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None

    def __str__(self):
        return format_checkpoint_state(self)

    def __repr__(self):
        return (
            f"CheckpointState(model_checkpoint_path={self.model_checkpoint_path!r}, "
            f"all_model_checkpoint_paths={self.all_model_checkpoint_paths!r})"
        )


# ---------------------------------------------------------------------------------------------
# Text format
# ---------------------------------------------------------------------------------------------

_ESCAPES = {i: f"\\{i:03o}" for i in range(128) if not 32 <= i < 127}
_ESCAPES.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("'"): "\\'", ord("\\"): "\\\\"})


def _quote(text):
    # protobuf's text format (as_utf8): control characters as octal, non-ASCII left as it is
    return '"' + text.translate(_ESCAPES) + '"'


def format_checkpoint_state(state):
    """The text TensorFlow writes for `state` (protobuf text format, proto3: unset fields omitted)."""
    lines = []
    if state.model_checkpoint_path:
        lines.append(f"model_checkpoint_path: {_quote(state.model_checkpoint_path)}")
    lines += [f"all_model_checkpoint_paths: {_quote(p)}" for p in state.all_model_checkpoint_paths]
    lines += [f"all_model_checkpoint_timestamps: {float(t)}" for t in state.all_model_checkpoint_timestamps]
    if state.last_preserved_timestamp:
        lines.append(f"last_preserved_timestamp: {float(state.last_preserved_timestamp)}")
    return "".join(line + "\n" for line in lines)


_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\f\v]+)
  | (?P<newline>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)f?(?![\w.]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[:\[\],;])
    """,
    re.VERBOSE | re.IGNORECASE,
)
_SIMPLE_ESCAPES = {
    "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34, "?": 63,
}  # fmt: skip
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S)
_STRING_FIELDS = {"model_checkpoint_path": False, "all_model_checkpoint_paths": True}
_FLOAT_FIELDS = {"all_model_checkpoint_timestamps": True, "last_preserved_timestamp": False}


class _ParseError(ValueError):
    pass


def _unescape(body, line):
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(body):
        out += body[pos : m.start()].encode("utf-8")
        octal, hex2, u4, u8, simple = m.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hex2 is not None:
            out.append(int(hex2, 16))
        elif u4 is not None or u8 is not None:
            out += chr(int(u4 or u8, 16)).encode("utf-8")
        elif simple in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[simple])
        else:
            raise _ParseError(f"line {line}: invalid escape sequence '\\{simple}'")
        pos = m.end()
    out += body[pos:].encode("utf-8")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise _ParseError(f"line {line}: string is not valid UTF-8") from None


def _tokenize(text):
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _ParseError(f"line {line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind == "newline":
            line += 1
        elif kind not in ("space", "comment"):
            tokens.append((kind, m.group(), line))
        pos = m.end()
    tokens.append(("end", "", line))
    return tokens


def _parse_number(token, line):
    text = token.lower()
    if text.lstrip("+-") in ("inf", "infinity", "nan"):
        text = text.replace("infinity", "inf")
    elif text.endswith("f"):
        text = text[:-1]
    try:
        return float(text)
    except ValueError:
        raise _ParseError(f"line {line}: bad number {token!r}") from None


def parse_checkpoint_state(text):
    """Parse the text of a ``checkpoint`` file into a `CheckpointState` (text-format Merge semantics).

    Accepts what protobuf's text parser accepts for this message (comments, either quote, escapes,
    adjacent strings, ``field: [a, b]`` lists); raises ValueError naming the line otherwise.
    """
    tokens = _tokenize(text)
    state = CheckpointState()
    i = 0

    def value(expect_string, line):
        nonlocal i
        kind, tok, tline = tokens[i]
        if expect_string:
            if kind != "string":
                raise _ParseError(f"line {tline}: expected a quoted string, found {tok or 'end of file'!r}")
            parts = []
            while tokens[i][0] == "string":
                parts.append(_unescape(tokens[i][1][1:-1], tokens[i][2]))
                i += 1
            return "".join(parts)
        if kind != "number":
            raise _ParseError(f"line {tline}: expected a number, found {tok or 'end of file'!r}")
        i += 1
        return _parse_number(tok, tline)

    while tokens[i][0] != "end":
        kind, name, line = tokens[i]
        if kind != "ident":
            raise _ParseError(f"line {line}: expected a field name, found {name!r}")
        if name in _STRING_FIELDS:
            is_string, repeated = True, _STRING_FIELDS[name]
        elif name in _FLOAT_FIELDS:
            is_string, repeated = False, _FLOAT_FIELDS[name]
        else:
            raise _ParseError(f'line {line}: unknown field "{name}" (not a CheckpointState field)')
        i += 1
        if tokens[i][1] != ":":
            raise _ParseError(f"line {tokens[i][2]}: expected ':' after {name}")
        i += 1
        if repeated and tokens[i][1] == "[":
            i += 1
            values = []
            while tokens[i][1] != "]":
                values.append(value(is_string, line))
                if tokens[i][1] == ",":
                    i += 1
                elif tokens[i][1] != "]":
                    raise _ParseError(f"line {tokens[i][2]}: expected ',' or ']' in the list of {name}")
            i += 1
        else:
            values = [value(is_string, line)]
        if repeated:
            getattr(state, name).extend(values)
        else:
            setattr(state, name, values[0])
        if tokens[i][1] in (",", ";"):
            i += 1
    return state


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------


def checkpoint_state_path(save_dir, latest_filename=None):
    """Path of the state file in `save_dir` (``checkpoint`` unless `latest_filename` says otherwise)."""
    return os.path.join(os.fspath(save_dir), latest_filename or DEFAULT_LATEST_FILENAME)


def generate_checkpoint_state(
    save_dir,
    model_checkpoint_path,
    all_model_checkpoint_paths=None,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp=None,
):
    """The `CheckpointState` TF would write (TF's `generate_checkpoint_state_proto`).

    `model_checkpoint_path` is appended to the list when it is not its last entry, and relative
    paths are made relative to `save_dir` when `save_dir` itself is relative.
    """
    save_dir = os.fspath(save_dir)
    model_checkpoint_path = os.fspath(model_checkpoint_path)
    paths = [os.fspath(p) for p in all_model_checkpoint_paths or []]
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(
            "Checkpoint timestamps, if provided, must match checkpoint paths "
            f"(got paths {paths} and timestamps {list(all_model_checkpoint_timestamps)})"
        )
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    return CheckpointState(
        model_checkpoint_path, paths, all_model_checkpoint_timestamps, last_preserved_timestamp
    )


def update_checkpoint_state(
    save_dir,
    model_checkpoint_path,
    all_model_checkpoint_paths=None,
    latest_filename=None,
    save_relative_paths=False,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp=None,
):
    """Atomically rewrite the state file of `save_dir` (TF's `update_checkpoint_state_internal`).

    `all_model_checkpoint_paths` lists the kept checkpoints, oldest first; the newest,
    `model_checkpoint_path`, is added at the end if missing. With `save_relative_paths` (the
    `Saver` option), absolute paths are written relative to `save_dir`. Raises RuntimeError if the
    newest path is the state file itself, as TF does. Returns the `CheckpointState` written.
    """
    save_dir = os.fspath(save_dir)
    model_checkpoint_path = os.fspath(model_checkpoint_path)
    paths = [os.fspath(p) for p in all_model_checkpoint_paths or []]
    filename = checkpoint_state_path(save_dir, latest_filename)
    if save_relative_paths:

        def rel(p):
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p

        model_checkpoint_path, paths = rel(model_checkpoint_path), [rel(p) for p in paths]
    state = generate_checkpoint_state(
        save_dir, model_checkpoint_path, paths, all_model_checkpoint_timestamps, last_preserved_timestamp
    )
    if filename == state.model_checkpoint_path:
        raise RuntimeError(
            f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint state.  "
            "Please use a different save path."
        )
    atomic_write_bytes(filename, format_checkpoint_state(state).encode("utf-8"))
    return state


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The `CheckpointState` in `checkpoint_dir`'s state file, or None if there is no such file.

    Relative paths in the file are joined with `checkpoint_dir`, as TF does. A file that cannot be
    parsed, or that names no model_checkpoint_path, raises ValueError naming the file.
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    filename = checkpoint_state_path(checkpoint_dir, latest_filename)
    try:
        with open(filename, "rb") as f:
            raw = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        state = parse_checkpoint_state(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"Malformed checkpoint state file {filename}: not UTF-8 text") from None
    except _ParseError as e:
        raise ValueError(f"Malformed checkpoint state file {filename}: {e}") from None
    if not state.model_checkpoint_path:
        raise ValueError(
            f"Invalid checkpoint state loaded from {checkpoint_dir}: "
            f"{filename} names no model_checkpoint_path"
        )

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    state.model_checkpoint_path = absolute(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [absolute(p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """Prefix of the newest checkpoint in `checkpoint_dir`, or None if there is none.

    None also when the state file names a checkpoint whose index file does not exist (logged).
    """
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not state.model_checkpoint_path:
        return None
    if os.path.isfile(index_path(state.model_checkpoint_path)):
        return state.model_checkpoint_path
    _log.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None
