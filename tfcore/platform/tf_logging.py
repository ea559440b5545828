"""``tf.logging``: TF1's logging functions on the Python logger named ``"tfcore"``.

As in TF1, the threshold starts at WARN (so ``info`` shows nothing until
``tf.logging.set_verbosity(tf.logging.INFO)``), and when the application has not configured Python
logging itself, records go to stderr as ``INFO:tfcore:message``.
"""

import logging as _logging
import sys as _sys
import threading as _threading

__all__ = [
    "DEBUG",
    "INFO",
    "WARN",
    "WARNING",
    "ERROR",
    "FATAL",
    "get_logger",
    "get_verbosity",
    "set_verbosity",
    "log",
    "debug",
    "info",
    "warning",
    "warn",
    "error",
    "fatal",
    "vlog",
    "log_if",
    "log_every_n",
    "log_first_n",
    "flush",
]

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
WARNING = _logging.WARNING
ERROR = _logging.ERROR
FATAL = _logging.FATAL

LOGGER_NAME = "tfcore"

_lock = _threading.Lock()
_configured = False


def get_logger():
    """The Python `logging.Logger` behind these functions (named ``"tfcore"``)."""
    global _configured
    logger = _logging.getLogger(LOGGER_NAME)
    if not _configured:
        with _lock:
            if not _configured:
                # Leave an application that configured logging (or a test runner) in charge.
                if not _logging.getLogger().handlers and not logger.handlers:
                    handler = _logging.StreamHandler(_sys.stderr)
                    handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                    logger.addHandler(handler)
                    logger.propagate = False
                if logger.level == _logging.NOTSET:
                    logger.setLevel(WARN)
                _configured = True
    return logger


def get_verbosity():
    """The current threshold (an int such as `INFO`)."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v):
    """Set the threshold: messages below level `v` (e.g. `INFO`, or ``"INFO"``) are dropped."""
    get_logger().setLevel(v)


def log(level, msg, *args, **kwargs):
    """Log `msg % args` at `level`."""
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    """Log at DEBUG."""
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    """Log at INFO."""
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    """Log at WARN."""
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    """Log at ERROR."""
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Log at FATAL (as in TF1, the program goes on)."""
    get_logger().critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    """Log at `level` (TF1's verbose logging)."""
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level, msg, condition, *args):
    """Log `msg % args` at `level` when `condition` is true."""
    if condition:
        log(level, msg, *args)


_counts = {}


def _call_site_key():
    frame = _sys._getframe(2)
    return (frame.f_code.co_filename, frame.f_lineno)


def log_every_n(level, msg, n, *args):
    """Log at `level` on the 1st, (n+1)th, (2n+1)th... call from the same line."""
    key = _call_site_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    log_if(level, msg, count % max(int(n), 1) == 0, *args)


def log_first_n(level, msg, n, *args):
    """Log at `level` only on the first `n` calls from the same line."""
    key = _call_site_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    log_if(level, msg, count < n, *args)


def flush():
    """Flush the handlers of the logger."""
    for handler in get_logger().handlers:
        handler.flush()
