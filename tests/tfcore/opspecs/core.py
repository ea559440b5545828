"""Op specs for the core ops: identity, placeholders with defaults, stack, cast, reshape."""

import numpy as np

from tests.tfcore.opspecs.spec import F, OpSpec

SPECS = [
    OpSpec("identity", lambda tf, x: tf.identity(x), lambda x: x, [F(2, 3)]),
    OpSpec("stack/axis0", lambda tf, x, y: tf.stack([x, y]), lambda x, y: np.stack([x, y]), [F(2, 3), F(2, 3)]),
    OpSpec("stack/axis-1", lambda tf, x, y: tf.stack([x, y], axis=-1), lambda x, y: np.stack([x, y], -1),
           [F(2, 3), F(2, 3)]),
    OpSpec("unstack/axis1", lambda tf, x: tf.unstack(x, axis=1), lambda x: [x[:, i] for i in range(3)],
           [F(2, 3)]),
    OpSpec("reshape/infer", lambda tf, x: tf.reshape(x, [-1, 2]), lambda x: x.reshape(-1, 2), [F(2, 3)]),
    OpSpec("broadcast_to", lambda tf, x: tf.broadcast_to(x, [4, 2, 3]), lambda x: np.broadcast_to(x, (4, 2, 3)),
           [F(2, 1)]),
    OpSpec("zeros_like_plus", lambda tf, x: tf.zeros_like(x) + x * 2.0, lambda x: 2 * x, [F(3)]),
]
