"""Neural style transfer for the course (lessons 08 and 09), on tfcore or TensorFlow alike.

* `course.style.vgg`: VGG19 (weights from the Keras or MatConvNet file, or random and calibrated) built
  from ordinary ops, with `preprocess`/`deprocess` for images.
* `course.style.losses`: Gram matrices and the content, style and total-variation losses.
* `course.style.gatys`: the optimisation method of Gatys et al. (`stylize`).
* `course.style.fast`: the feed-forward transformation network of Johnson et al. (lesson 09).

Submodules are imported on first use (``course.style.gatys``), so importing this package is cheap.
"""

import importlib

__all__ = ["vgg", "losses", "gatys", "fast"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"course.style.{name}")
    raise AttributeError(f"module 'course.style' has no attribute {name!r}")
