"""The losses of neural style transfer (Gatys et al.), normalised as anishathalye's neural-style does it.

    grams = losses.style_targets(weights, style_image, tf=tf)        # {layer: float32 [1, C, C]}
    loss = (5 * losses.content_loss(net, content_targets, tf=tf)
            + 500 * losses.style_loss(net, grams, tf=tf)
            + 100 * losses.total_variation_loss(image, tf=tf))

Every loss is a mean of squares, so that its size does not depend on the image size or the layer width:

* Gram matrix of features F [N, H, W, C]: ``G[n] = F[n]^T F[n] / (H * W * C)``, with F[n] seen as a
  [H*W, C] matrix: the channel correlations, averaged over positions (and divided by C once more).
* content loss: ``mean((F - P)^2)`` at each content layer, averaged over the layers.
* style loss: ``sum_l w_l * mean((G_l - A_l)^2)`` over the style layers, with layer weights w_l summing to 1
  (equal by default).
* total variation: ``mean((x[i+1, j] - x[i, j])^2) + mean((x[i, j+1] - x[i, j])^2)``.

`tf` is the engine module (default: `course.engine()`); the targets are NumPy arrays or tensors.
"""

import numpy as np

from course.engine import engine_or_default
from course.style import vgg

__all__ = [
    "CONTENT_LAYERS",
    "STYLE_LAYERS",
    "gram_matrix",
    "content_loss",
    "style_loss",
    "total_variation_loss",
    "features",
    "content_targets",
    "style_targets",
]

CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def gram_matrix(features, tf=None):
    """The Gram matrices [N, C, C] of features [N, H, W, C], divided by H * W * C.

    ``G[n, i, j] = sum over positions p of F[n, p, i] * F[n, p, j] / (H * W * C)``. H, W and C must be
    known when the graph is built, and so must N unless it is 1 (each image is one matrix product: the
    engines' `matmul` takes matrices).
    """
    tf = engine_or_default(tf)
    shape = features.get_shape().as_list()
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ValueError(f"course.style.losses.gram_matrix: features must be [N, H, W, C] with H, W and C "
                         f"known, got {shape}")
    n, h, w, c = shape
    if n is None:
        raise ValueError("course.style.losses.gram_matrix: the batch size must be known when the graph is "
                         "built (give the placeholder a fixed batch size)")
    scale = np.float32(1.0 / (h * w * c))
    matrices = tf.reshape(features, [n, h * w, c])
    images = [matrices[0]] if n == 1 else tf.unstack(matrices, num=n, axis=0)
    grams = [tf.matmul(m, m, transpose_a=True) * scale for m in images]
    return tf.expand_dims(grams[0], 0) if n == 1 else tf.stack(grams, axis=0)


def _as_tensor(tf, value):
    """A target as a tensor: tensors pass through, arrays become float32 constants."""
    return value if hasattr(value, "op") else tf.constant(np.asarray(value, np.float32))


def _mean_square(tf, difference):
    return tf.reduce_mean(tf.square(difference))


def content_loss(net, content_targets, layers=CONTENT_LAYERS, tf=None):
    """``mean((F_l - P_l)^2)`` averaged over `layers`: F the features of the image in `net` ({layer:
    tensor}, from `vgg.build`), P the content image's features (`content_targets`, {layer: array})."""
    tf = engine_or_default(tf)
    layers = tuple(layers)
    if not layers:
        raise ValueError("course.style.losses.content_loss: no content layers")
    terms = [_mean_square(tf, net[layer] - _as_tensor(tf, content_targets[layer])) for layer in layers]
    return tf.add_n(terms) / np.float32(len(layers)) if len(terms) > 1 else terms[0]


def style_loss(net, style_grams, layers=STYLE_LAYERS, weights=None, tf=None):
    """``sum_l w_l * mean((G_l - A_l)^2)`` over `layers`: G the Gram matrices of the image's features in
    `net`, A the style image's (`style_grams`, {layer: array [1, C, C]}, from `style_targets`). `weights`
    (one per layer) are normalised to sum to 1; equal by default."""
    tf = engine_or_default(tf)
    layers = tuple(layers)
    if not layers:
        raise ValueError("course.style.losses.style_loss: no style layers")
    weights = np.ones(len(layers)) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(layers),) or weights.sum() <= 0 or (weights < 0).any():
        raise ValueError(f"course.style.losses.style_loss: need one non-negative weight per layer "
                         f"({len(layers)}), got {weights}")
    weights = weights / weights.sum()
    terms = []
    for layer, weight in zip(layers, weights):
        difference = gram_matrix(net[layer], tf=tf) - _as_tensor(tf, style_grams[layer])
        terms.append(_mean_square(tf, difference) * np.float32(weight))
    return tf.add_n(terms) if len(terms) > 1 else terms[0]


def total_variation_loss(image, tf=None):
    """``mean(dy^2) + mean(dx^2)`` of an image tensor [N, H, W, C], dy and dx the differences of
    vertically and horizontally neighbouring pixels: small for smooth images."""
    tf = engine_or_default(tf)
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    return _mean_square(tf, dy) + _mean_square(tf, dx)


# ----------------------------------------------------------------------------------------------------
# Targets: the features of the content image and the Gram matrices of the style image, as arrays


def features(weights, image, layers, pooling="max", tf=None, grams=False):
    """The VGG19 features ({layer: float32 array [1, H, W, C]}) of an RGB image in 0..255 at `layers`, or
    with `grams` their Gram matrices ([1, C, C]). Runs in a graph of its own."""
    tf = engine_or_default(tf)
    layers = tuple(layers)
    last = max(layers, key=vgg.VGG19_LAYERS.index)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(vgg.preprocess(image, weights.mean_pixel))
        net = vgg.build(weights, x, pooling=pooling, tf=tf, last=last)
        fetches = {layer: gram_matrix(net[layer], tf=tf) if grams else net[layer] for layer in layers}
        with tf.Session(graph=graph) as sess:
            return sess.run(fetches)


def content_targets(weights, content_image, layers=CONTENT_LAYERS, pooling="max", tf=None):
    """The content image's features at `layers` ({layer: array}), the targets of `content_loss`."""
    return features(weights, content_image, layers, pooling=pooling, tf=tf)


def style_targets(weights, style_image, layers=STYLE_LAYERS, pooling="max", tf=None):
    """The style image's Gram matrices at `layers` ({layer: array [1, C, C]}), the targets of `style_loss`."""
    return features(weights, style_image, layers, pooling=pooling, tf=tf, grams=True)
