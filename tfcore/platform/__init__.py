"""TF1's program helpers: `app` (``tf.app.run``), `flags` (``tf.app.flags``), `tf_logging`
(``tf.logging``) and `gfile` (``tf.gfile`` and ``tf.io.gfile``)."""

from tfcore.platform import app, flags, gfile, tf_logging

__all__ = ["app", "flags", "gfile", "tf_logging"]
