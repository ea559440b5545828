"""`tf.io`: the lowercase file API (`tf.io.gfile.exists`, ...)."""

from tfcore.platform import gfile  # noqa: F401 - re-exported
