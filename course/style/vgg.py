"""VGG19 for style transfer: its weights (two file formats, or random) and the network, from plain ops.

    from course.style import vgg
    weights = vgg.load_weights()                      # Keras file, else MatConvNet file, else random (warns)
    image = tf.Variable(vgg.preprocess(photo)[None])  # float32 NHWC, the mean pixel subtracted
    net = vgg.build(weights, image, tf=tf)            # {"conv1_1": tensor, "relu1_1": tensor, ...}

Only the convolutional part is used (up to relu5_4). The layers carry the names of the anishathalye
neural-style program (``conv1_1``, ``relu1_1``, ..., ``pool5`` is never built). Every kernel here is in
TensorFlow's HWIO layout ([height, width, in channels, out channels]) and expects **RGB** input minus the
mean pixel: `load_keras_h5` turns the Keras file's BGR first layer round, `load_matconvnet` transposes
MatConvNet's kernels. Without a weight file (offline, and in the tests) `load_weights` warns and returns
random weights; `calibrate` then rescales each layer to unit mean activation on the style image, which is
the documented degraded mode of lesson 08.
"""

import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from course.engine import engine_or_default
from course.style.vgg_files import read_keras_h5, read_matconvnet

__all__ = [
    "VGG19_LAYERS",
    "CONV_LAYERS",
    "MEAN_PIXEL",
    "VGG19Weights",
    "VGG19WeightsWarning",
    "KERAS_WEIGHTS",
    "MATCONVNET_WEIGHTS",
    "load_keras_h5",
    "load_matconvnet",
    "random_weights",
    "load_weights",
    "calibrate",
    "preprocess",
    "deprocess",
    "build",
    "layers_up_to",
]

VGG19_LAYERS = (
    "conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
    "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2",
    "conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3", "conv3_4", "relu3_4", "pool3",
    "conv4_1", "relu4_1", "conv4_2", "relu4_2", "conv4_3", "relu4_3", "conv4_4", "relu4_4", "pool4",
    "conv5_1", "relu5_1", "conv5_2", "relu5_2", "conv5_3", "relu5_3", "conv5_4", "relu5_4",
)
"""The layers of VGG19's convolutional part, in order (the anishathalye neural-style names)."""

CONV_LAYERS = tuple(name for name in VGG19_LAYERS if name.startswith("conv"))
"""The 16 convolution layers, the only ones with weights."""

_BLOCK_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}

MEAN_PIXEL = np.array([123.68, 116.779, 103.939], dtype=np.float32)
"""The ImageNet mean pixel (RGB, 0..255) that both weight files were trained with."""

KERAS_WEIGHTS = "vgg19/keras-notop"
MATCONVNET_WEIGHTS = "vgg19/matconvnet"
"""Logical names of the two weight files in the data registry (`course.data`)."""


def _kernel_shape(name):
    """The HWIO shape of conv layer `name` (``"conv3_2"`` -> (3, 3, 256, 256))."""
    block, index = (int(part) for part in name[4:].split("_"))
    out_channels = _BLOCK_CHANNELS[block]
    if index > 1:
        in_channels = out_channels
    else:
        in_channels = 3 if block == 1 else _BLOCK_CHANNELS[block - 1]
    return (3, 3, in_channels, out_channels)


class VGG19WeightsWarning(UserWarning):
    """Warned when no pretrained VGG19 weights could be had and random weights are used instead."""


@dataclass(frozen=True)
class VGG19Weights:
    """The weights of VGG19's 16 convolution layers.

    `kernels` maps each conv layer name to a float32 HWIO array (RGB input), `biases` to a float32 [C]
    array, `mean_pixel` is float32[3] (RGB, 0..255 scale), `source` says where they came from
    (``"keras"``, ``"matconvnet"`` or ``"random"``) and `note` says so in words (the file, or why the
    weights are random and whether they were calibrated).
    """

    kernels: dict
    biases: dict
    mean_pixel: np.ndarray = field(default_factory=lambda: MEAN_PIXEL.copy())
    source: str = "random"
    note: str = ""
    calibrated: bool = False

    def __post_init__(self):
        for name in CONV_LAYERS:
            if name not in self.kernels or name not in self.biases:
                raise ValueError(f"VGG19Weights ({self.source}): no weights for layer {name}")
            expected = _kernel_shape(name)
            if tuple(self.kernels[name].shape) != expected:
                raise ValueError(f"VGG19Weights ({self.source}): kernel of {name} has shape "
                                 f"{tuple(self.kernels[name].shape)}, expected {expected} (HWIO)")
            if tuple(self.biases[name].shape) != expected[-1:]:
                raise ValueError(f"VGG19Weights ({self.source}): bias of {name} has shape "
                                 f"{tuple(self.biases[name].shape)}, expected {expected[-1:]}")

    @property
    def pretrained(self):
        """True for weights loaded from a file (trained on ImageNet), False for random ones."""
        return self.source != "random"

    def __repr__(self):
        return f"<VGG19Weights source={self.source!r}: {self.note}>"


def _weights(kernels, biases, mean_pixel, source, note):
    kernels = {name: np.ascontiguousarray(kernels[name], dtype=np.float32) for name in CONV_LAYERS}
    biases = {name: np.ascontiguousarray(np.reshape(biases[name], -1), dtype=np.float32)
              for name in CONV_LAYERS}
    mean = np.asarray(mean_pixel, dtype=np.float32).reshape(3)
    return VGG19Weights(kernels, biases, mean, source, note)


# ----------------------------------------------------------------------------------------------------
# The two weight files (read by `course.style.vgg_files`, turned into `VGG19Weights` here)


def load_keras_h5(path):
    """Load Keras's ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``; returns `VGG19Weights`.

    The file has one HDF5 group per layer (``block1_conv1``, ..., ``block5_pool``), whose attribute
    ``weight_names`` lists its datasets (``block1_conv1_W_1:0``: the HWIO kernel, ``block1_conv1_b_1:0``:
    the bias). The weights come from the original Caffe model, whose input is **BGR**: the first layer's
    kernel is turned round to RGB here, so every loader takes the same RGB input. Needs h5py.
    """
    kernels, biases = read_keras_h5(path, CONV_LAYERS)
    kernels["conv1_1"] = kernels["conv1_1"][:, :, ::-1, :]  # BGR -> RGB input channels
    return _weights(kernels, biases, MEAN_PIXEL, "keras", f"pretrained VGG19 (ImageNet) from {path}")


def load_matconvnet(path):
    """Load MatConvNet's ``imagenet-vgg-verydeep-19.mat`` (the file anishathalye's neural-style reads).

    ``layers`` is a 1xL cell array of structs (``name``, ``type``, ``weights``, ...); a conv layer's
    ``weights`` is a 1x2 cell {kernel, bias}, the kernel stored [width, height, in, out] (it is transposed
    to HWIO here). The mean pixel is ``meta.normalization.averageImage`` (a 1x1x3 array; the older file
    version has a whole mean image in ``normalization.averageImage``, averaged here). Needs SciPy.
    """
    kernels, biases, mean_pixel = read_matconvnet(path, CONV_LAYERS)
    return _weights(kernels, biases, mean_pixel, "matconvnet", f"pretrained VGG19 (ImageNet) from {path}")


def random_weights(seed=0):
    """Random VGG19 weights: He-normal kernels (std sqrt(2 / fan_in)) and zero biases, from `seed`.

    Use `calibrate` on them before style transfer. They are what lesson 08 runs on without a weight file.
    """
    rng = np.random.default_rng(seed)
    kernels, biases = {}, {}
    for name in CONV_LAYERS:
        shape = _kernel_shape(name)
        std = np.sqrt(2.0 / (shape[0] * shape[1] * shape[2]))
        kernels[name] = (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))
        biases[name] = np.zeros(shape[-1], np.float32)
    return _weights(kernels, biases, MEAN_PIXEL, "random",
                    f"random VGG19 weights (He-normal, seed {seed}), not calibrated")


_RANDOM_MEANING = (
    "Style transfer still runs, on a VGG19 with random weights rescaled to unit mean activation on the "
    "style image (random networks capture textures and colours, as He, Wang and Hopcroft 2016 showed), "
    "but content and style are matched far less faithfully than with the trained network.")


def load_weights(source="auto", seed=0):
    """VGG19 weights from `source`: ``"keras"``, ``"matconvnet"``, ``"random"`` or ``"auto"``.

    ``"auto"`` tries the Keras file from the data registry (found, or downloaded, and verified), then the
    MatConvNet file, and otherwise returns `random_weights(seed)` with a `VGG19WeightsWarning` that says
    which files were tried, why they could not be used and what that means. It never fails for lack of a
    file. An explicit ``"keras"`` or ``"matconvnet"`` raises the data registry's error instead.
    """
    from course import data

    loaders = {"keras": (KERAS_WEIGHTS, load_keras_h5), "matconvnet": (MATCONVNET_WEIGHTS, load_matconvnet)}
    if source == "random":
        return random_weights(seed)
    if source in loaders:
        name, loader = loaders[source]
        return loader(data.path(name))
    if source != "auto":
        raise ValueError(f"course.style.vgg.load_weights: unknown source {source!r}; use 'auto', 'keras', "
                         "'matconvnet' or 'random'")
    reasons = []
    for kind, (name, loader) in loaders.items():
        try:
            return loader(data.path(name))
        except (OSError, ValueError, ImportError) as exc:  # missing, corrupt, unreadable, no h5py/SciPy
            reasons.append(f"{kind}: {exc}")
    weights = random_weights(seed)
    warnings.warn("No pretrained VGG19 weights are available, so random weights are used. "
                  + " ".join(reasons) + " " + _RANDOM_MEANING, VGG19WeightsWarning, stacklevel=2)
    return replace(weights, note=weights.note + "; no weight file: " + " | ".join(reasons))


# ----------------------------------------------------------------------------------------------------
# Images in and out


def preprocess(image, mean_pixel=MEAN_PIXEL):
    """An RGB image in 0..255 ([H, W, 3] or [N, H, W, 3]) as the network's float32 NHWC input: minus the
    mean pixel (RGB), a batch axis added to a single image."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4 or image.shape[-1] != 3:
        raise ValueError(f"course.style.vgg.preprocess: expected an RGB image [H, W, 3] or [N, H, W, 3], "
                         f"got shape {image.shape}")
    return image - np.asarray(mean_pixel, np.float32).reshape(1, 1, 1, 3)


def deprocess(array, mean_pixel=MEAN_PIXEL):
    """The inverse of `preprocess`: add the mean pixel, clip to 0..255 and round to uint8 RGB. A batch of
    one ([1, H, W, 3]) comes back as one image [H, W, 3]."""
    array = np.asarray(array, dtype=np.float32) + np.asarray(mean_pixel, np.float32).reshape(3)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------
# The network


def layers_up_to(last="relu5_4"):
    """The layer names from ``conv1_1`` to `last`, inclusive."""
    if last not in VGG19_LAYERS:
        raise ValueError(f"course.style.vgg: unknown layer {last!r}; the layers are {VGG19_LAYERS}")
    return VGG19_LAYERS[:VGG19_LAYERS.index(last) + 1]


def _pool(tf, current, pooling):
    if pooling == "max":
        return tf.nn.max_pool(current, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    return tf.nn.avg_pool(current, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def _check_pooling(pooling):
    if pooling not in ("max", "avg"):
        raise ValueError(f"course.style.vgg: pooling must be 'max' or 'avg', got {pooling!r}")


def build(weights, image_tensor, pooling="max", tf=None, last="relu5_4"):
    """VGG19 on `image_tensor` (float32 NHWC, preprocessed) up to layer `last`; returns {name: tensor}.

    Ordinary ops only: `conv2d` (SAME padding, stride 1) with the kernel as a constant, `bias_add`,
    `relu`, and `max_pool` or `avg_pool` (2x2, stride 2; `pooling` is ``"max"`` or ``"avg"``).
    `tf` is the engine (default: `course.engine()`).
    """
    tf = engine_or_default(tf)
    _check_pooling(pooling)
    net, current = {}, image_tensor
    for name in layers_up_to(last):
        kind = name[:4]
        if kind == "conv":
            kernel = tf.constant(weights.kernels[name], name=f"{name}_kernel")
            current = tf.nn.conv2d(current, kernel, strides=[1, 1, 1, 1], padding="SAME", name=name)
            current = tf.nn.bias_add(current, tf.constant(weights.biases[name], name=f"{name}_bias"))
        elif kind == "relu":
            current = tf.nn.relu(current, name=name)
        else:
            current = _pool(tf, current, pooling)
        net[name] = current
    return net


def calibrate(weights, style_image, tf=None, pooling="max"):
    """Rescale random weights so that every ReLU layer has mean activation 1 on `style_image`.

    `style_image` is an RGB image in 0..255 ([H, W, 3]). Layer by layer, from the first: run the layer on
    the (already calibrated) activations below it, divide its kernel and bias by the mean of its ReLU
    output. A ReLU commutes with a positive factor, so afterwards each layer's mean activation is exactly
    1 and no layer dominates the style loss merely by its scale. Pretrained weights come back unchanged.
    Returns new `VGG19Weights` (``calibrated=True``).
    """
    if weights.pretrained or weights.calibrated:
        return weights
    tf = engine_or_default(tf)
    _check_pooling(pooling)
    kernels, biases = dict(weights.kernels), dict(weights.biases)
    activations = preprocess(style_image, weights.mean_pixel)
    graph = tf.Graph()
    with graph.as_default():
        blocks = {}  # one small graph per layer shape, fed with the activations below
        with tf.Session(graph=graph) as sess:
            for name in VGG19_LAYERS:
                kind = name[:4]
                if kind == "relu":
                    continue
                key = (kind, activations.shape, name if kind == "conv" else "")
                if key not in blocks:
                    x = tf.placeholder(tf.float32, activations.shape)
                    if kind == "conv":
                        k = tf.placeholder(tf.float32, kernels[name].shape)
                        b = tf.placeholder(tf.float32, biases[name].shape)
                        out = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k, [1, 1, 1, 1], "SAME"), b))
                        blocks[key] = (x, k, b, out)
                    else:
                        blocks[key] = (x, None, None, _pool(tf, x, pooling))
                x, k, b, out = blocks[key]
                if kind == "conv":
                    raw = sess.run(out, {x: activations, k: kernels[name], b: biases[name]})
                    mean = float(raw.mean())
                    if not mean > 0.0:
                        raise ValueError(f"course.style.vgg.calibrate: layer {name} is dead on this image "
                                         "(mean activation 0); try another seed")
                    kernels[name] = kernels[name] / np.float32(mean)
                    biases[name] = biases[name] / np.float32(mean)
                    activations = raw / np.float32(mean)
                else:
                    activations = sess.run(out, {x: activations})
    note = weights.note.replace("not calibrated", "calibrated to unit mean activation on the style image")
    return replace(weights, kernels=kernels, biases=biases, note=note, calibrated=True)
