"""`tf.data.experimental`: the names TF1 input pipelines take from it."""

# `num_parallel_calls=AUTOTUNE`, `prefetch(AUTOTUNE)`: TF tunes these; tfcore accepts and ignores them.
AUTOTUNE = -1
