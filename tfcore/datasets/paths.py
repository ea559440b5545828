"""The folders data files are looked up in: ``$TFCORE_DATASETS`` and the user cache.

Both are read from the environment on every call, so setting the variables at run time takes effect.
"""

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "datasets_dir"]


def datasets_dir():
    """The folder named by ``$TFCORE_DATASETS`` (a Path), or None when it is not set."""
    value = os.environ.get("TFCORE_DATASETS")
    return Path(value).expanduser() if value else None


def _platform_cache_root(appname):
    try:  # what pooch.os_cache uses; importing it does not import pooch
        import platformdirs
    except ImportError:
        platformdirs = None
    if platformdirs is not None:
        return Path(platformdirs.user_cache_dir(appname))
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / appname / appname / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / appname
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(home / ".cache")
    return Path(base) / appname


def cache_dir():
    """The user cache folder: ``$TFCORE_CACHE`` if set, else the folder ``pooch.os_cache("tfcore")`` names."""
    value = os.environ.get("TFCORE_CACHE")
    if value:
        return Path(value).expanduser()
    return _platform_cache_root("tfcore")
