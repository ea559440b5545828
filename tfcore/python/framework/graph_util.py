"""`from tfcore.python.framework import graph_util`: the same module as `tf.graph_util`."""

from tfcore.graph_util import *  # noqa: F403 - re-exported
from tfcore.graph_util import __all__  # noqa: F401 - the same public names
