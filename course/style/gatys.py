"""Neural style transfer by optimisation (Gatys, Ecker and Bethge 2015), as anishathalye's neural-style does.

    from course.style import gatys
    result = gatys.stylize(content, style, iterations=500)     # RGB images in 0..255
    result.image                  # uint8 [H, W, 3]
    result.history["total"]       # the loss at every step
    result.snapshots              # [(step, uint8 image), ...] every `checkpoint_every` steps

The image itself is the variable: Adam changes its pixels to lower

    content_weight * content_loss + style_weight * style_loss + tv_weight * total_variation_loss

(`course.style.losses`) on a fixed VGG19 (`course.style.vgg`). With ``content_weight=0`` and no content
image the result is a texture of the style image; with ``style_weight=0`` it is a reconstruction of the
content image from one layer's features. Both are in lesson 08.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from course.engine import engine_or_default
from course.style import losses, vgg

__all__ = ["StyleResult", "stylize", "PRETRAINED_LOSS_WEIGHTS", "RANDOM_LOSS_WEIGHTS", "loss_weights"]

PRETRAINED_LOSS_WEIGHTS = {"content_weight": 5.0, "style_weight": 500.0, "tv_weight": 100.0}
"""anishathalye's defaults, tuned for the trained VGG19 (and `stylize`'s defaults)."""

RANDOM_LOSS_WEIGHTS = {"content_weight": 500.0, "style_weight": 1e6, "tv_weight": 0.05}
"""The starting point for calibrated random weights. Their features have mean 1, so their Gram matrices
and the style loss are far smaller than the trained network's while the total variation (in pixels) is
the same: with the defaults above the TV term would outweigh the style term a hundred thousand times and
the optimisation would only blur the photo. These were chosen by trying them on the course's images (a
larger content weight keeps more of the photo, a smaller TV weight leaves coloured speckle)."""


def loss_weights(weights):
    """The loss weights to start from for these VGG19 weights: ``{"content_weight", "style_weight",
    "tv_weight"}``, `PRETRAINED_LOSS_WEIGHTS` or `RANDOM_LOSS_WEIGHTS` (pass them on: ``**``)."""
    return dict(PRETRAINED_LOSS_WEIGHTS if weights.pretrained else RANDOM_LOSS_WEIGHTS)


@dataclass
class StyleResult:
    """What `stylize` returns.

    `image` is the result (uint8 RGB [H, W, 3]); `history` maps ``"total"``, ``"content"``, ``"style"``
    and ``"tv"`` to the losses at each step (float arrays, the weighted terms, before that step's update);
    `snapshots` lists ``(step, uint8 image)`` pairs (the start, every `checkpoint_every` steps, the end);
    `seconds_per_iteration` is the mean time of one optimisation step (the first, which also plans the
    graph, left out when there is more than one); `weights` are the VGG19 weights used.
    """

    image: np.ndarray
    history: dict
    snapshots: list = field(default_factory=list)
    seconds_per_iteration: float = float("nan")
    weights: vgg.VGG19Weights | None = None


def _as_image(image, what):
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"course.style.gatys.stylize: the {what} image must be RGB [H, W, 3] in 0..255, "
                         f"got shape {image.shape}")
    return image


def _initial(initial, shape, content, mean_pixel, seed):
    if isinstance(initial, str):
        if initial == "content":
            if content is None:
                raise ValueError("course.style.gatys.stylize: initial='content' needs a content image")
            return vgg.preprocess(content, mean_pixel)
        if initial == "noise":  # grey: the mean pixel plus normal noise (std 16 of 255)
            rng = np.random.default_rng(seed)
            return rng.normal(0.0, 16.0, size=(1, *shape)).astype(np.float32)
        raise ValueError(f"course.style.gatys.stylize: initial must be 'content', 'noise' or an image, "
                         f"got {initial!r}")
    return vgg.preprocess(_as_image(initial, "initial"), mean_pixel)


def _images(content, style, content_weight, shape):
    """The content image (None for a texture) and the style image as float32 arrays, and the shape of
    the result: `shape`, else the content image's, else the style image's."""
    style = _as_image(style, "style")
    content = None if content is None else _as_image(content, "content")
    if content is None and content_weight:
        raise ValueError("course.style.gatys.stylize: no content image, so content_weight must be 0")
    if shape is None:
        shape = content.shape if content is not None else style.shape
    return content, style, tuple(int(d) for d in shape)


def _loss_terms(tf, net, image, weighted, targets_c, targets_s, content_layers, style_layers,
                style_layer_weights):
    """The weighted loss terms ``{"content", "style", "tv"}`` on the VGG19 features `net` of `image`.

    `weighted` holds the three weights; a term without targets (None: not used) or with weight 0 is
    the constant 0."""
    content_weight, style_weight, tv_weight = weighted
    zero = tf.constant(0.0)
    return {
        "content": (content_weight * losses.content_loss(net, targets_c, content_layers, tf=tf)
                    if targets_c is not None else zero),
        "style": (style_weight * losses.style_loss(net, targets_s, style_layers, style_layer_weights,
                                                   tf=tf) if targets_s is not None else zero),
        "tv": tv_weight * losses.total_variation_loss(image, tf=tf) if tv_weight else zero,
    }


def _optimise(sess, train, fetches, image, iterations, checkpoint_every, progress, mean_pixel):
    """Run `iterations` steps of `train`, fetching the losses each step. Returns (the history of each
    fetched loss, the seconds of each step, the images kept every `checkpoint_every` steps before the
    last, the final image); images are uint8 RGB."""
    history = {name: [] for name in fetches}
    snapshots = []
    steps = range(iterations)
    if progress:
        from course.progress import progress_range
        steps = progress_range(iterations, desc="Gatys")
    times = []
    for step in steps:
        began = time.perf_counter()
        _, values = sess.run([train, fetches])
        times.append(time.perf_counter() - began)
        for name, value in values.items():
            history[name].append(float(value))
        if progress and hasattr(steps, "set_postfix"):
            steps.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
        done = step + 1
        if checkpoint_every and done % checkpoint_every == 0 and done < iterations:
            snapshots.append((done, vgg.deprocess(sess.run(image), mean_pixel)))
    final = vgg.deprocess(sess.run(image), mean_pixel)
    return history, times, snapshots, final


def stylize(content, style, iterations, content_weight=5.0, style_weight=500.0, tv_weight=100.0,
            learning_rate=10.0, weights=None, pooling="max", checkpoint_every=None, tf=None, progress=True,
            content_layers=losses.CONTENT_LAYERS, style_layers=losses.STYLE_LAYERS, style_layer_weights=None,
            initial="content", seed=0, shape=None):
    """Optimise an image to have the content of `content` and the style of `style`; returns `StyleResult`.

    `content` and `style` are RGB images in 0..255 ([H, W, 3]; the result has the content's size, the
    style image may have any size). `content` may be None when `content_weight` is 0 (texture synthesis:
    give `shape` [H, W, 3] or get the style image's). `weights` are VGG19 weights (default:
    `vgg.load_weights()`, which warns and uses random weights when no weight file can be had); random
    weights are calibrated on the style image first. `initial` is ``"content"``, ``"noise"`` or an
    image. The losses are taken at `content_layers` and `style_layers` (weighted by
    `style_layer_weights`, equal by default). Adam with `learning_rate` runs `iterations` steps with a
    progress bar (`progress`); `checkpoint_every` keeps an image every that many steps. `tf` is the
    engine (default: `course.engine()`).
    """
    tf = engine_or_default(tf)
    content, style, shape = _images(content, style, content_weight, shape)
    if weights is None:
        weights = vgg.load_weights()
    weights = vgg.calibrate(weights, style, tf=tf, pooling=pooling)
    use_content = bool(content_weight) and content is not None
    use_style = bool(style_weight)
    targets_c = losses.content_targets(weights, content, content_layers, pooling, tf) if use_content else None
    targets_s = losses.style_targets(weights, style, style_layers, pooling, tf) if use_style else None
    layers = [*(content_layers if use_content else ()), *(style_layers if use_style else ())]
    last = max(layers, key=vgg.VGG19_LAYERS.index) if layers else "relu1_1"
    start = _initial(initial, shape, content, weights.mean_pixel, seed)

    graph = tf.Graph()
    with graph.as_default():
        image = tf.Variable(start, name="image")
        net = vgg.build(weights, image, pooling=pooling, tf=tf, last=last)
        terms = _loss_terms(tf, net, image, (content_weight, style_weight, tv_weight), targets_c, targets_s,
                            content_layers, style_layers, style_layer_weights)
        total = terms["content"] + terms["style"] + terms["tv"]
        train = tf.train.AdamOptimizer(learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8).minimize(
            total, var_list=[image])
        fetches = {"total": total, **terms}
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            first = (0, vgg.deprocess(start, weights.mean_pixel))
            history, times, kept, final = _optimise(sess, train, fetches, image, iterations,
                                                    checkpoint_every, progress, weights.mean_pixel)
    snapshots = [first, *kept]
    if iterations:
        snapshots.append((iterations, final))
    timed = times[1:] if len(times) > 1 else times
    seconds = float(np.mean(timed)) if timed else float("nan")
    return StyleResult(image=final, history={k: np.asarray(v) for k, v in history.items()},
                       snapshots=snapshots, seconds_per_iteration=seconds, weights=weights)
