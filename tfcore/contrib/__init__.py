"""`tf.contrib`: the few contrib pieces classic course code uses (`contrib.layers`)."""

from tfcore.contrib import layers, rnn  # noqa: F401
