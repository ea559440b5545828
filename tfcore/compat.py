"""`tf.compat.v1`: tfcore *is* the TF1 API, so `tf.compat.v1` is tfcore itself."""

import tfcore as v1  # noqa: F401 - re-exported
