"""Fast (feed-forward) style transfer, after Johnson, Alahi and Fei-Fei (2016): a network learns one
style once, then stylises any photo in a single forward pass (lesson 09).

    from course.style import fast
    result = fast.train(["bridge", "columns"], "great_wave_hokusai", steps=2000, save_to="runs/wave")
    painting = fast.apply("runs/wave", photo_uint8)          # uint8 [H, W, 3], one forward pass

    with fast.load("runs/wave") as stylize:                   # an app keeps the model loaded
        painting = stylize(photo_uint8)

The transformation network (`transform_net`) is Johnson's design: reflection padding instead of zeros
(no dark frame), a 9x9 convolution, two strided 3x3 convolutions that halve the image twice, residual
blocks at a quarter of the size, two upsampling steps back to full size, and a 9x9 convolution to RGB.
Every convolution but the last is followed by instance normalisation (each image's channels scaled to
mean 0, variance 1 over its own pixels, Ulyanov et al. 2016) and a ReLU. Upsampling is a nearest-
neighbour resize followed by a convolution (Odena et al. 2016: no checkerboard pattern), or a
transposed convolution as in Johnson's paper.

It is trained with the perceptual loss of lesson 08 (`course.style.losses` on `course.style.vgg`): the
content loss between the VGG19 features of the output and of the photo, the style loss between the
output's Gram matrices and the style image's, and total variation. The photos are random crops at
random scales of the images given (a folder, or registered image names such as the bundled content
images; `course.style.photos`, whose names are re-exported here). Everything takes the engine `tf`
(default: `course.engine()`), so it runs on tfcore and on TensorFlow alike.
"""

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from course.engine import engine_or_default
from course.style import gatys, losses, vgg
from course.style.photos import IMAGE_SUFFIXES, CropSampler, read_images, shrink

__all__ = [
    "IMAGE_SUFFIXES",
    "transform_net",
    "instance_norm",
    "read_images",
    "shrink",
    "CropSampler",
    "TrainResult",
    "train",
    "Stylizer",
    "load",
    "apply",
]

CONFIG_FILE = "fast_style.json"
"""Written next to the checkpoint: the network's shape, so that `load` can rebuild it."""

SCOPE = "transform"
"""The variable scope of the transformation network (its checkpoint holds only these variables)."""


def _engine_name(tf):
    """"tfcore" or "tensorflow": which engine module `tf` is (their checkpoints differ)."""
    return "tfcore" if tf.__name__.split(".")[0] == "tfcore" else "tensorflow"


# ----------------------------------------------------------------------------------------------------
# The transformation network


def instance_norm(x, tf=None, epsilon=1e-3):
    """Instance normalisation of NHWC `x`: each image's channels to mean 0 and variance 1 over its own
    pixels (`tf.nn.moments` over height and width), then a learned scale and shift per channel.

    Unlike batch normalisation it treats every image alone, the same in training and in use: the
    contrast of one photo does not leak into the stylisation of another.
    """
    tf = engine_or_default(tf)
    channels = x.get_shape().as_list()[-1]
    scale = tf.get_variable("scale", [channels], initializer=tf.ones_initializer())
    shift = tf.get_variable("shift", [channels], initializer=tf.zeros_initializer())
    mean, variance = tf.nn.moments(x, [1, 2], keep_dims=True)
    return (x - mean) * tf.rsqrt(variance + epsilon) * scale + shift


def _conv(tf, x, channels, kernel, stride=1, norm=True, relu=True):
    """Reflection padding, a convolution (VALID: the padding is already there), instance norm, ReLU."""
    in_channels = x.get_shape().as_list()[-1]
    weights = tf.get_variable("weights", [kernel, kernel, in_channels, channels],
                              initializer=tf.truncated_normal_initializer(stddev=0.1))
    pad = kernel // 2
    x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    x = tf.nn.conv2d(x, weights, strides=[1, stride, stride, 1], padding="VALID")
    if norm:
        x = instance_norm(x, tf=tf)
    return tf.nn.relu(x) if relu else x


def _spatial_size(tf, x):
    """[height, width] of NHWC `x`: Python ints where the static shape knows them, else from tf.shape."""
    dims = x.get_shape().as_list()[1:3]
    return dims if None not in dims else tf.shape(x)[1:3]


def _upsample(tf, x, like, channels, mode):
    """Back to the height and width of `like` (an earlier, larger feature map), with `channels`."""
    if mode == "resize":
        x = tf.image.resize_nearest_neighbor(x, _spatial_size(tf, like))
        return _conv(tf, x, channels, 3)
    in_channels = x.get_shape().as_list()[-1]
    weights = tf.get_variable("weights", [3, 3, channels, in_channels],
                              initializer=tf.truncated_normal_initializer(stddev=0.1))
    shape = tf.shape(like)
    output_shape = tf.stack([tf.shape(x)[0], shape[1], shape[2], channels])
    x = tf.nn.conv2d_transpose(x, weights, output_shape, strides=[1, 2, 2, 1], padding="SAME")
    x.set_shape([None, *like.get_shape().as_list()[1:3], channels])
    return tf.nn.relu(instance_norm(x, tf=tf))


def transform_net(image_tensor, tf=None, width=32, residual_blocks=5, upsample="resize", reuse=None):
    """The transformation network on `image_tensor` (float32 [N, H, W, 3], RGB in 0..255); returns the
    stylised images, float32 [N, H, W, 3], RGB in about 0..255 (a scaled tanh: clip before display).

    `width` is the channel count of the first layer (Johnson: 32; then 2x and 4x that); `upsample` is
    ``"resize"`` (nearest neighbour x2 + convolution) or ``"transpose"`` (`conv2d_transpose`). Any
    height and width work: the upsampling steps return to the exact sizes the downsampling left.
    Variables live under the scope ``transform/``.
    """
    tf = engine_or_default(tf)
    if upsample not in ("resize", "transpose"):
        raise ValueError(f"course.style.fast.transform_net: upsample must be 'resize' or 'transpose', "
                         f"got {upsample!r}")
    if image_tensor.get_shape().ndims != 4 or image_tensor.get_shape().as_list()[-1] != 3:
        raise ValueError(f"course.style.fast.transform_net: expected RGB images [N, H, W, 3], got shape "
                         f"{image_tensor.get_shape()}")
    with tf.variable_scope(SCOPE, reuse=reuse):
        x = image_tensor / 127.5 - 1.0
        with tf.variable_scope("conv1"):
            conv1 = _conv(tf, x, width, 9)
        with tf.variable_scope("conv2"):
            conv2 = _conv(tf, conv1, 2 * width, 3, stride=2)
        with tf.variable_scope("conv3"):
            x = _conv(tf, conv2, 4 * width, 3, stride=2)
        for block in range(1, residual_blocks + 1):
            with tf.variable_scope(f"residual{block}"):
                with tf.variable_scope("a"):
                    y = _conv(tf, x, 4 * width, 3)
                with tf.variable_scope("b"):
                    y = _conv(tf, y, 4 * width, 3, relu=False)
                x = x + y
        with tf.variable_scope("up1"):
            x = _upsample(tf, x, conv2, 2 * width, upsample)
        with tf.variable_scope("up2"):
            x = _upsample(tf, x, conv1, width, upsample)
        with tf.variable_scope("output"):
            x = _conv(tf, x, 3, 9, relu=False)
        return tf.nn.tanh(x) * 150.0 + 127.5


# ----------------------------------------------------------------------------------------------------
# Training


@dataclass
class TrainResult:
    """What `train` returns: the loss history, the time per step, where the model was saved, and the
    stylised training crops of the last step (uint8) next to the photos they came from."""

    history: dict
    seconds_per_step: float
    model_path: str | None
    config: dict
    weights_note: str
    last_inputs: np.ndarray = field(repr=False, default=None)
    last_outputs: np.ndarray = field(repr=False, default=None)


def _vgg_weights(weights, style_image, tf):
    """The VGG19 weights to train with: given, or `vgg.load_weights()` (which warns when it falls back
    to random weights), calibrated on the style image when random."""
    if weights is None:
        weights = vgg.load_weights()
    return vgg.calibrate(weights, style_image, tf=tf)


def _loss_weights(weights, content_weight, style_weight, tv_weight):
    """The three loss weights: those given, and lesson 08's starting values for these VGG19 weights
    (`gatys.loss_weights`) in place of None."""
    given = {"content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight}
    return {name: value if value is not None else gatys.loss_weights(weights)[name]
            for name, value in given.items()}


@dataclass
class _TrainingGraph:
    """The graph `train` builds, and what it runs in it: the crops fed, the photos and their stylised
    versions, the weighted loss terms and their total, the update, the saver and the initialiser."""

    graph: object
    crops: object
    photos_in: object
    stylised: object
    terms: dict
    total: object
    train_op: object
    saver: object
    init: object


def _training_graph(tf, weights, style_grams, loss_weights, *, batch_size, crop_size, width, residual_blocks,
                    upsample, learning_rate, content_layers, style_layers, seed):
    """Build the training graph: crops resized to `crop_size`, the transformation network on them, VGG19
    on the photos and on the stylised images, the perceptual loss and Adam on the network's variables."""
    last_layer = max((*content_layers, *style_layers), key=vgg.VGG19_LAYERS.index)
    mean_pixel = np.asarray(weights.mean_pixel, np.float32)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        crops = tf.placeholder(tf.float32, [batch_size, None, None, 3], name="crops")
        photos_in = tf.image.resize_bilinear(crops, [crop_size, crop_size])
        stylised = transform_net(photos_in, tf=tf, width=width, residual_blocks=residual_blocks,
                                 upsample=upsample)
        with tf.name_scope("vgg_photo"):
            photo_net = vgg.build(weights, photos_in - mean_pixel, tf=tf, last=last_layer)
        with tf.name_scope("vgg_stylised"):
            net = vgg.build(weights, stylised - mean_pixel, tf=tf, last=last_layer)
        targets = {layer: photo_net[layer] for layer in content_layers}
        terms = {
            "content": losses.content_loss(net, targets, layers=content_layers, tf=tf),
            "style": losses.style_loss(net, style_grams, layers=style_layers, tf=tf),
            "tv": losses.total_variation_loss(stylised, tf=tf),
        }
        terms = {name: np.float32(loss_weights[f"{name}_weight"]) * term for name, term in terms.items()}
        total = tf.add_n(list(terms.values()))
        variables = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=SCOPE)
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(total, var_list=variables)
        saver = tf.train.Saver(variables)
        init = tf.global_variables_initializer()
    return _TrainingGraph(graph, crops, photos_in, stylised, terms, total, train_op, saver, init)


def _run_training(tf, net, sampler, steps, progress, save_to, config):
    """Run `steps` training steps of `net` (a `_TrainingGraph`) on batches from `sampler`, then stylise
    one more batch, and save the network to `save_to` (a folder) if given. Returns (the loss history,
    the seconds all steps took, that batch's photos and stylised images, the checkpoint path or None)."""
    import course

    history = {"total": [], **{name: [] for name in net.terms}}
    fetches = {"train": net.train_op, "total": net.total, **net.terms}
    model_path = None
    with tf.Session(graph=net.graph) as sess:
        sess.run(net.init)
        bar = course.progress_range(steps, desc="training the style network", disable=not progress)
        started = time.perf_counter()
        for _ in bar:
            values = sess.run(fetches, {net.crops: sampler.batch()})
            for name in history:
                history[name].append(float(values[name]))
            bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
        seconds = time.perf_counter() - started
        batch = sampler.batch()
        inputs, outputs = sess.run([net.photos_in, net.stylised], {net.crops: batch})
        if save_to is not None:
            os.makedirs(save_to, exist_ok=True)
            model_path = net.saver.save(sess, os.path.join(os.fspath(save_to), "model.ckpt"),
                                        global_step=steps)
            with open(os.path.join(os.fspath(save_to), CONFIG_FILE), "w", encoding="utf-8") as file:
                json.dump(config, file, indent=1)
    return history, seconds, inputs, outputs, model_path


def train(content, style_image, steps, *, batch_size=4, crop_size=256, style_size=512, content_weight=None,
          style_weight=None, tv_weight=None, learning_rate=1e-3, width=32, residual_blocks=5,
          upsample="resize", weights=None, content_layers=losses.CONTENT_LAYERS,
          style_layers=losses.STYLE_LAYERS, save_to=None, seed=0, tf=None, progress=True):
    """Train a transformation network for the style of `style_image` on crops of the `content` photos.

    `content`: a folder or a list of images, files or registered names (`read_images`); `style_image`:
    an RGB array in 0..255 or a registered name / file, shrunk to `style_size` pixels on its longer side
    (`shrink`). The loss is lesson 08's, ``content_weight * content + style_weight * style + tv_weight *
    total variation``, on VGG19 (`weights`: `VGG19Weights`, default `vgg.load_weights()`, calibrated on
    the style image if random); a weight left at None takes lesson 08's starting value for those VGG19
    weights (`gatys.loss_weights`: anishathalye's for the trained network, others for random weights).
    Adam with `learning_rate` runs `steps` steps of `batch_size` crops of `crop_size` pixels.

    With `save_to` (a folder), the network's variables are saved there with `tf.train.Saver` (plus
    ``fast_style.json``, its shape), ready for `load` and `apply`. Returns a `TrainResult`.
    """
    tf = engine_or_default(tf)
    photos = read_images(content)
    style = shrink(read_images([style_image])[0], style_size, tf=tf)
    weights = _vgg_weights(weights, style, tf)
    loss_weights = _loss_weights(weights, content_weight, style_weight, tv_weight)
    style_grams = losses.style_targets(weights, style, layers=style_layers, tf=tf)
    config = {"width": width, "residual_blocks": residual_blocks, "upsample": upsample,
              "crop_size": crop_size, "style_image": style_image if isinstance(style_image, str) else None,
              "vgg19": weights.source, "engine": _engine_name(tf), **loss_weights}
    net = _training_graph(tf, weights, style_grams, loss_weights, batch_size=batch_size, crop_size=crop_size,
                          width=width, residual_blocks=residual_blocks, upsample=upsample,
                          learning_rate=learning_rate, content_layers=content_layers,
                          style_layers=style_layers, seed=seed)
    sampler = CropSampler(photos, batch_size, crop_size, seed=seed)
    history, seconds, inputs, outputs, model_path = _run_training(tf, net, sampler, steps, progress,
                                                                  save_to, config)
    return TrainResult(history=history, seconds_per_step=seconds / max(steps, 1), model_path=model_path,
                       config=config, weights_note=weights.note, last_inputs=_to_uint8(inputs),
                       last_outputs=_to_uint8(outputs))


def _to_uint8(images):
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------
# Using a trained network


def _checkpoint(model_path, tf):
    """The checkpoint prefix of `model_path`: a folder `train` saved into, or a prefix in it."""
    path = os.fspath(model_path)
    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise FileNotFoundError(f"course.style.fast: no checkpoint in folder {path} (train(..., "
                                    f"save_to={path!r}) writes one)")
        return prefix
    if not os.path.exists(path + ".index") and not os.path.exists(path):
        raise FileNotFoundError(f"course.style.fast: no checkpoint {path} (give the folder train saved to, "
                                "or a checkpoint prefix in it)")
    return path


class Stylizer:
    """A trained transformation network, loaded once and kept in its own graph and session: call it on
    uint8 RGB images [H, W, 3] (any size) to get the stylised uint8 images. Close it when done (or use
    `with`)."""

    def __init__(self, model_path, tf=None):
        import course

        path = os.fspath(model_path)
        config_path = os.path.join(path if os.path.isdir(path) else os.path.dirname(path) or ".", CONFIG_FILE)
        if not os.path.exists(config_path):
            raise FileNotFoundError(f"course.style.fast: no trained network at {path}: {config_path} is "
                                    "missing (train(..., save_to=folder) writes it next to the checkpoint)")
        with open(config_path, encoding="utf-8") as file:
            self.config = json.load(file)
        saved_by = self.config.get("engine", "tfcore")
        tf = course.engine(saved_by) if tf is None else tf
        if _engine_name(tf) != saved_by:
            raise ValueError(f"course.style.fast: the network at {path} was saved by {saved_by}, and the "
                             f"checkpoint files of {saved_by} and {_engine_name(tf)} differ: load it with "
                             f"{saved_by} (tf=course.engine({saved_by!r}), the default) or train it again")
        prefix = _checkpoint(path, tf)
        self.checkpoint = prefix
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images = tf.placeholder(tf.float32, [1, None, None, 3], name="image")
            self.output = transform_net(self.images, tf=tf, width=self.config["width"],
                                        residual_blocks=self.config["residual_blocks"],
                                        upsample=self.config["upsample"])
            saver = tf.train.Saver(tf.global_variables())
        self.session = tf.Session(graph=self.graph)
        saver.restore(self.session, prefix)

    def __call__(self, image):
        """The stylised image: uint8 [H, W, 3] from an RGB image [H, W, 3] (uint8, or float in 0..255)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"course.style.fast: expected an RGB image [H, W, 3], got shape {image.shape}")
        if min(image.shape[:2]) < 4:
            raise ValueError(f"course.style.fast: the image is too small ({image.shape[0]}x{image.shape[1]} "
                             "pixels); it needs at least 4 each way")
        result = self.session.run(self.output, {self.images: image[None].astype(np.float32)})
        return _to_uint8(result[0])

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(model_path, tf=None):
    """The network saved by `train(..., save_to=model_path)`, as a `Stylizer` (call it on images).

    `tf` defaults to the engine that saved it (tfcore and TensorFlow write different checkpoint files)."""
    return Stylizer(model_path, tf=tf)


def apply(model_path, image, tf=None):
    """Stylise one RGB image ([H, W, 3], uint8 or float in 0..255) with the network saved at `model_path`
    (the folder given to `train`'s `save_to`, or a checkpoint prefix): one forward pass, uint8 result
    of the same size. Loads the network each call; keep a `load(...)` object to stylise many images."""
    with load(model_path, tf=tf) as stylize:
        return stylize(image)

