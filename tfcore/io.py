"""`tf.io`: the lowercase file API (`tf.io.gfile.exists`, ...)."""

from tfcore.framework.graph_def import write_graph  # noqa: F401 - re-exported (tf.io.write_graph)
from tfcore.platform import gfile  # noqa: F401 - re-exported
