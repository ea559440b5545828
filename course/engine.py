"""The engine switch: `tf = course.engine()` gives tfcore, or real TensorFlow in TF1 graph mode.

    import course
    tf = course.engine()          # tfcore, unless COURSE_ENGINE=tensorflow

With `COURSE_ENGINE=tensorflow` the lessons run on `tensorflow.compat.v1` with TF1 behaviour
(graph mode, reference variables, `Dimension` shapes, Switch/Merge `cond`): the same code, the
same printed names, numbers equal up to floating-point rounding and random draws.
"""

import os
import types

ENGINES = ("tfcore", "tensorflow")


def engine_name():
    """The engine the lessons use: $COURSE_ENGINE ("tfcore" or "tensorflow"), tfcore by default."""
    name = os.environ.get("COURSE_ENGINE", "tfcore").strip().lower() or "tfcore"
    if name not in ENGINES:
        raise ValueError(f"COURSE_ENGINE={name!r} is not an engine of this course; use one of {ENGINES}.")
    return name


def engine(name=None):
    """The TF1 API module: tfcore, or `tensorflow.compat.v1` with TF1 behaviour switched on."""
    name = name or engine_name()
    if name == "tfcore":
        import tfcore
        return tfcore
    if name != "tensorflow":
        raise ValueError(f"Unknown engine {name!r}; use one of {ENGINES}.")
    return tensorflow_v1()


def engine_or_default(tf=None):
    """`tf` where a function was given an engine module, else the course's engine (`engine()`)."""
    return engine() if tf is None else tf


def tensorflow_v1(eager_off=True):
    """`tensorflow.compat.v1` set up as TF1: reference variables, Dimension shapes, v1 control flow.

    `eager_off=False` keeps eager execution on for the rest of the process (graphs still work inside
    `tf.Graph().as_default()`); the lessons turn it off, as TF1 programs expect.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Without this TF prints a oneDNN notice on stderr at import, whatever the log level.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    try:
        import tensorflow as tf_real
    except ImportError:
        raise ImportError("COURSE_ENGINE=tensorflow needs TensorFlow: pip install 'tensorflow-cpu==2.21.*' "
                          "(it comes with `make test`).") from None
    v1 = tf_real.compat.v1
    v1.logging.set_verbosity(v1.logging.ERROR)
    # Switching to TF1 behaviour is the point here: TF's "deprecated" notices for these calls (and for
    # the TF1 API the lessons use) would only be noise in every lesson.
    from tensorflow.python.util import deprecation
    deprecation._PRINT_DEPRECATION_WARNINGS = False
    if eager_off:
        v1.disable_eager_execution()
    v1.disable_resource_variables()
    v1.disable_v2_tensorshape()
    v1.disable_control_flow_v2()
    if not hasattr(v1, "contrib"):
        v1.contrib = _contrib_for(v1)
    return v1


def _contrib_for(v1):
    """TF 2 dropped `tf.contrib`; classic programs use its regularizers. These are TF1's definitions
    (contrib/layers/python/layers/regularizers.py): scale * l2_loss(w) and scale * sum(|w|)."""

    def l2_regularizer(scale, scope=None):
        return lambda weights: v1.multiply(scale, v1.nn.l2_loss(weights), name="l2_regularizer")

    def l1_regularizer(scale, scope=None):
        return lambda weights: v1.multiply(scale, v1.reduce_sum(v1.abs(weights)), name="l1_regularizer")

    layers = types.SimpleNamespace(l2_regularizer=l2_regularizer, l1_regularizer=l1_regularizer)
    return types.SimpleNamespace(layers=layers)
