"""Which device the lessons run on: the GPU where one is present, else the CPU, said out loud.

    import course
    tf = course.engine()
    with tf.device(course.pick_device()):     # prints e.g. "Device: /device:GPU:0 (NVIDIA H100 ...)"
        ...build the model...

`COURSE_DEVICE` overrides the choice: "auto" (the default), "cpu", or "gpu" (an error saying why
when no GPU can be used). On tfcore a GPU means CuPy and an NVIDIA GPU (`pip install -e ".[gpu]"`);
with `COURSE_ENGINE=tensorflow` it means a GPU that TensorFlow sees.
"""

import os

from course.engine import engine_name

CHOICES = ("auto", "cpu", "gpu")


def _gpu_status(engine):
    """(description of GPU:0, None) when the engine can use a GPU, else (None, why not)."""
    if engine == "tfcore":
        from tfcore import devices
        reason = devices.gpu_unavailable_reason()
        if reason is not None:
            return None, reason
        return devices.lookup("/device:GPU:0").describe(), None
    from course.engine import tensorflow_v1
    tensorflow_v1()  # TensorFlow set up as the lessons use it
    import tensorflow
    gpus = tensorflow.config.list_physical_devices("GPU")
    if not gpus:
        return None, "TensorFlow sees no GPU"
    return f"/device:GPU:0 ({gpus[0].name}, TensorFlow {tensorflow.__version__})", None


def _cpu_description(engine):
    if engine == "tfcore":
        from tfcore import devices
        return devices.CPU.describe()
    return "/device:CPU:0 (TensorFlow)"


def pick_device(choice=None, quiet=False):
    """The device string for `tf.device(...)`: "/gpu:0" where a GPU can be used, else "/cpu:0".

    `choice` (default $COURSE_DEVICE, else "auto"): "auto", "cpu" or "gpu" ("gpu" raises
    RuntimeError with the reason when there is none). Prints which device it picked and why, unless
    `quiet`.
    """
    choice = (choice or os.environ.get("COURSE_DEVICE", "auto")).strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"COURSE_DEVICE={choice!r} is not one of {CHOICES}.")
    engine = engine_name()
    if choice == "cpu":
        picked, line = "/cpu:0", f"Device: {_cpu_description(engine)} (COURSE_DEVICE=cpu)"
    else:
        gpu, reason = _gpu_status(engine)
        if gpu is not None:
            picked, line = "/gpu:0", f"Device: {gpu}"
        elif choice == "gpu":
            raise RuntimeError(f"COURSE_DEVICE=gpu, but no GPU can be used on {engine}: {reason}")
        else:
            picked, line = "/cpu:0", f"Device: {_cpu_description(engine)}; no GPU ({reason})"
    if not quiet:
        print(line)
    return picked
