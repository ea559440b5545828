"""The files of a checkpoint prefix: their names, temporary files, atomic writes and cleanup.

`checkpoint_io` writes and reads checkpoints with these helpers and re-exports the public ones;
`checkpoint_state` writes the ``checkpoint`` state file with `atomic_write_bytes`. A temporary file is
named ``.<name>.<pid>.<random>.tmp`` next to its target (hidden, and never read), and a kept copy of
a committed data file ``.<basename>.data-00000-of-00001.<write id>.prev`` (see `checkpoint_io`).
"""

import os
import time

__all__ = [
    "DATA_SUFFIX",
    "INDEX_SUFFIX",
    "META_SUFFIX",
    "STALE_TEMP_SECONDS",
    "atomic_write_bytes",
    "backup_path",
    "data_path",
    "fsync_directory",
    "index_path",
    "remove_backups",
    "remove_quietly",
    "remove_stale_temp_files",
    "temp_path_for",
]

DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
META_SUFFIX = ".meta"
STALE_TEMP_SECONDS = 600.0


def data_path(prefix):
    """Path of the (single) data file of checkpoint `prefix`."""
    return os.fspath(prefix) + DATA_SUFFIX


def index_path(prefix):
    """Path of the index file of checkpoint `prefix`."""
    return os.fspath(prefix) + INDEX_SUFFIX


def backup_path(prefix, write_id_hex):
    """Path of the kept copy (``.prev``) of the data file that write `write_id_hex` of `prefix` made."""
    directory, base = os.path.split(os.fspath(prefix))
    return os.path.join(directory, f".{base}{DATA_SUFFIX}.{write_id_hex}.prev")


def temp_path_for(path):
    """A fresh temporary name next to `path`: ``.<name>.<pid>.<random>.tmp`` in the same directory."""
    directory, name = os.path.split(os.fspath(path))
    return os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _parse_temp_name(filename):
    """(target name, pid) of a name made by `temp_path_for`, or None."""
    if not (filename.startswith(".") and filename.endswith(".tmp")):
        return None
    parts = filename[1:-4].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 8:
        return None
    try:
        int(parts[2], 16)
    except ValueError:
        return None
    return parts[0], int(parts[1])


def _pid_running(pid):
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def remove_stale_temp_files(directory, target_names):
    """Delete leftover temporary files for `target_names` in `directory` whose writer is gone.

    A temporary file counts as stale when the pid in its name is no longer running (POSIX), or when
    it has not been modified for `STALE_TEMP_SECONDS`. Files of live writers are left alone.
    """
    targets = set(target_names)
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return
    now = time.time()
    for entry in entries:
        parsed = _parse_temp_name(entry)
        if parsed is None or parsed[0] not in targets:
            continue
        path = os.path.join(directory, entry)
        try:
            old = now - os.stat(path).st_mtime > STALE_TEMP_SECONDS
        except OSError:
            continue
        if old or not _pid_running(parsed[1]):
            remove_quietly(path)


def remove_quietly(path):
    """Delete file `path` if it can be deleted; a file that is gone already is no error."""
    try:
        os.remove(path)
    except OSError:  # already gone, or not ours to remove: nothing to do
        pass


def remove_backups(prefix, keep=()):
    """Delete the ``.prev`` copies of `prefix`'s data file, except those of the write ids in `keep`."""
    directory, base = os.path.split(os.fspath(prefix))
    start, end = f".{base}{DATA_SUFFIX}.", ".prev"
    try:
        entries = os.listdir(directory or ".")
    except OSError:
        return
    for entry in entries:
        if entry.startswith(start) and entry.endswith(end) and entry[len(start) : -len(end)] not in keep:
            remove_quietly(os.path.join(directory, entry))


def fsync_directory(directory):
    """Make renames in `directory` durable (a no-op where directories cannot be fsynced)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(directory or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data):
    """Replace file `path` by `data` atomically: temp file, flush, fsync, `os.replace`, fsync dir.

    A reader sees either the old file or the new one, whatever moment the writer dies at.
    """
    path = os.fspath(path)
    directory = os.path.dirname(path)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    fsync_directory(directory)
    remove_stale_temp_files(directory, [os.path.basename(path)])
