"""``tf.gfile`` (TF1 names such as `Exists`, `GFile`) and ``tf.io.gfile`` (``exists``, ``makedirs``...)
for local files.

Failures raise TensorFlow's error classes from `tfcore.framework.errors` (`NotFoundError`,
`AlreadyExistsError`, `PermissionDeniedError`, `FailedPreconditionError`...), with messages like TF's.
"""

import glob as _glob
import os
import shutil
from collections import namedtuple

from tfcore.framework import errors

__all__ = [
    "GFile",
    "FastGFile",
    "Open",
    "Exists",
    "MakeDirs",
    "MkDir",
    "Glob",
    "DeleteRecursively",
    "Remove",
    "Rename",
    "ListDirectory",
    "IsDirectory",
    "Copy",
    "Stat",
    "Walk",
    "FileStatistics",
    "exists",
    "makedirs",
    "mkdir",
    "glob",
    "rmtree",
    "listdir",
    "isdir",
    "remove",
    "rename",
    "copy",
    "stat",
    "walk",
]


def _error_from_oserror(exc, path):
    """The TF error for an `OSError` raised while working on `path`."""
    reason = exc.strerror or str(exc)
    message = f"{path}; {reason}"
    if isinstance(exc, FileNotFoundError):
        cls = errors.NotFoundError
    elif isinstance(exc, FileExistsError):
        cls = errors.AlreadyExistsError
    elif isinstance(exc, PermissionError):
        cls = errors.PermissionDeniedError
    elif isinstance(exc, IsADirectoryError | NotADirectoryError):
        cls = errors.FailedPreconditionError
    else:
        cls = errors.UnknownError
    return cls(None, None, message)


def _path(name):
    return os.fspath(name)


class GFile:
    """A file object, as TF's ``tf.gfile.GFile(name, mode)``.

    Modes as Python's ``open`` (``"r"``, ``"w"``, ``"a"``, with ``"b"`` for bytes). Text mode reads and
    writes `str`; binary mode `bytes`. Opening a missing file for reading raises `NotFoundError`.
    """

    def __init__(self, name, mode="r"):
        self._name = _path(name)
        self._mode = mode
        binary = "b" in mode
        try:
            self._f = open(self._name, mode, **({} if binary else {"encoding": "utf-8", "newline": ""}))
        except OSError as exc:
            raise _error_from_oserror(exc, self._name) from None

    @property
    def name(self):
        """The path the file was opened with."""
        return self._name

    @property
    def mode(self):
        """The mode the file was opened with."""
        return self._mode

    @property
    def closed(self):
        """Whether the file is closed."""
        return self._f.closed

    def _check(self, readable):
        if readable and not self._f.readable():
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        if not readable and not self._f.writable():
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")

    def read(self, n=-1):
        """Read `n` characters or bytes (all that is left by default)."""
        self._check(True)
        return self._f.read(n)

    def readline(self):
        """Read one line, with its newline."""
        self._check(True)
        return self._f.readline()

    def readlines(self):
        """Read all remaining lines."""
        self._check(True)
        return self._f.readlines()

    def write(self, data):
        """Write `data` (str in text mode, bytes in binary mode)."""
        self._check(False)
        self._f.write(data)

    def flush(self):
        """Flush buffered writes."""
        self._f.flush()

    def seek(self, offset=None, whence=0, position=None):
        """Move to `offset` (or TF's older `position`) relative to `whence`."""
        if position is not None:
            offset = position
        return self._f.seek(offset or 0, whence)

    def tell(self):
        """The current position."""
        return self._f.tell()

    def size(self):
        """The file's size in bytes."""
        self._f.flush()
        return os.path.getsize(self._name)

    def close(self):
        """Close the file."""
        self._f.close()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<GFile {self._name!r} mode {self._mode!r}>"


FastGFile = GFile
Open = GFile

FileStatistics = namedtuple("FileStatistics", ["length", "mtime_nsec", "is_directory"])
FileStatistics.__doc__ = "What `Stat` returns: size in bytes, modification time in ns, and a directory flag."


def Exists(filename):
    """Whether a file or directory exists at `filename`."""
    return os.path.exists(_path(filename))


def IsDirectory(dirname):
    """Whether `dirname` is a directory."""
    return os.path.isdir(_path(dirname))


def MakeDirs(dirname):
    """Create `dirname` and any missing parents; an existing directory is fine."""
    dirname = _path(dirname)
    if os.path.exists(dirname) and not os.path.isdir(dirname):
        raise errors.FailedPreconditionError(None, None, f"{dirname} is not a directory")
    try:
        os.makedirs(dirname, exist_ok=True)
    except OSError as exc:
        raise _error_from_oserror(exc, dirname) from None


def MkDir(dirname):
    """Create directory `dirname`, whose parent must exist (an existing directory is fine, as in TF)."""
    dirname = _path(dirname)
    if os.path.isdir(dirname):
        return
    try:
        os.mkdir(dirname)
    except OSError as exc:
        raise _error_from_oserror(exc, dirname) from None


def Glob(filename):
    """The paths matching the pattern `filename` (``*``, ``?``, ``[...]``), sorted; [] if none."""
    return sorted(_glob.glob(_path(filename)))


def ListDirectory(dirname):
    """The names (not paths) of the entries in directory `dirname`, sorted."""
    dirname = _path(dirname)
    if not os.path.exists(dirname):
        raise errors.NotFoundError(None, None, f"Could not find directory {dirname}")
    if not os.path.isdir(dirname):
        return []  # as TF does for a file
    try:
        return sorted(os.listdir(dirname))
    except OSError as exc:
        raise _error_from_oserror(exc, dirname) from None


def Walk(top, in_order=True):
    """Walk the tree under `top`, yielding ``(dirname, subdirectory names, file names)``; top-down when
    `in_order`, bottom-up otherwise. A missing `top` yields nothing."""
    top = _path(top)
    for dirpath, dirnames, filenames in os.walk(top, topdown=in_order):
        dirnames.sort()
        yield dirpath, list(dirnames), sorted(filenames)


def DeleteRecursively(dirname):
    """Delete `dirname` and everything under it (a file is simply deleted)."""
    dirname = _path(dirname)
    if not os.path.lexists(dirname):
        raise errors.NotFoundError(None, None, f"{dirname} not found")
    try:
        if os.path.isdir(dirname) and not os.path.islink(dirname):
            shutil.rmtree(dirname)
        else:
            os.remove(dirname)
    except OSError as exc:
        raise _error_from_oserror(exc, dirname) from None


def Remove(filename):
    """Delete the file `filename` (not a directory)."""
    filename = _path(filename)
    if os.path.isdir(filename) and not os.path.islink(filename):
        raise errors.FailedPreconditionError(None, None, f"{filename}; Is a directory")
    try:
        os.remove(filename)
    except OSError as exc:
        raise _error_from_oserror(exc, filename) from None


def Rename(oldname, newname, overwrite=False):
    """Rename `oldname` to `newname`; an existing `newname` raises `AlreadyExistsError` unless
    `overwrite`."""
    oldname, newname = _path(oldname), _path(newname)
    if not os.path.lexists(oldname):
        raise errors.NotFoundError(None, None, f"{oldname}; No such file or directory")
    if os.path.lexists(newname) and not overwrite:
        raise errors.AlreadyExistsError(None, None, f"{newname}; file already exists")
    try:
        os.replace(oldname, newname)
    except OSError as exc:
        raise _error_from_oserror(exc, newname) from None


def Copy(oldpath, newpath, overwrite=False):
    """Copy file `oldpath` to `newpath`; an existing `newpath` raises `AlreadyExistsError` unless
    `overwrite`."""
    oldpath, newpath = _path(oldpath), _path(newpath)
    if not os.path.exists(oldpath):
        raise errors.NotFoundError(None, None, f"{oldpath}; No such file or directory")
    if os.path.isdir(oldpath):
        raise errors.FailedPreconditionError(None, None, f"{oldpath}; Is a directory")
    if os.path.lexists(newpath) and not overwrite:
        raise errors.AlreadyExistsError(None, None, f"{newpath}; file already exists")
    try:
        shutil.copyfile(oldpath, newpath)
    except OSError as exc:
        raise _error_from_oserror(exc, newpath) from None


def Stat(filename):
    """`FileStatistics` (length, mtime_nsec, is_directory) of `filename`."""
    filename = _path(filename)
    try:
        st = os.stat(filename)
    except OSError as exc:
        raise _error_from_oserror(exc, filename) from None
    return FileStatistics(length=st.st_size, mtime_nsec=st.st_mtime_ns, is_directory=os.path.isdir(filename))


# tf.io.gfile's names
exists = Exists
makedirs = MakeDirs
mkdir = MkDir
glob = Glob
rmtree = DeleteRecursively
listdir = ListDirectory
isdir = IsDirectory
remove = Remove
rename = Rename
copy = Copy
stat = Stat
walk = Walk
