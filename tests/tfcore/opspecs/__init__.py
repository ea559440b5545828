"""The op-spec table: one row per op variant, shared by the value, gradient and TensorFlow tests.

Each family file (math.py, array.py, nn.py, image.py, ...) defines `SPECS`; ALL_SPECS is their union.
"""

from tests.tfcore.opspecs import array, core, image, math, nn, random
from tests.tfcore.opspecs.spec import OpSpec

ALL_SPECS = [*core.SPECS, *math.SPECS, *array.SPECS, *nn.SPECS, *image.SPECS, *random.SPECS]

_names = [s.name for s in ALL_SPECS]
_dupes = {n for n in _names if _names.count(n) > 1}
assert not _dupes, f"duplicate op spec names: {sorted(_dupes)}"

__all__ = ["ALL_SPECS", "OpSpec"]
