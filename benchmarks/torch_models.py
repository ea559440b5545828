"""PyTorch (CPU) counterparts of `benchmarks.models`: the same networks, losses, optimizers and starting
weights, written the way a PyTorch user would (NCHW layout, eager autograd). Imported only when torch
is installed; each `*_step` function returns a callable that runs one step."""

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks import models


def _param(array):
    return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(array)))


def _conv_kernel(kernel):
    """TF's [h, w, in, out] kernel as PyTorch's [out, in, h, w]."""
    return kernel.transpose(3, 2, 0, 1)


def mlp_step(seed=models.SEED):
    w1, b1, w2, b2 = models.mlp_weights(seed)
    params = [_param(w1.T), _param(b1), _param(w2.T), _param(b2)]  # Linear stores [out, in]
    optimizer = torch.optim.SGD(params, lr=models.MLP_LEARNING_RATE)
    pixels, labels = models.mnist_like_batch()
    x, y = torch.from_numpy(pixels), torch.from_numpy(labels)

    def step():
        optimizer.zero_grad()
        hidden = F.relu(F.linear(x, params[0], params[1]))
        loss = F.cross_entropy(F.linear(hidden, params[2], params[3]), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def _lenet(seed):
    values = dict(zip(models.LENET_NAMES, models.lenet_weights(seed)))
    p = {}
    # fc1's rows follow TF's NHWC flattening; reorder them for NCHW so the logits are the same.
    values["fc1/weights"] = values["fc1/weights"].reshape(7, 7, models.CONV2_DEPTH, models.FC_UNITS) \
        .transpose(2, 0, 1, 3).reshape(-1, models.FC_UNITS)
    for name, value in values.items():
        if name.startswith("conv") and name.endswith("weights"):
            value = _conv_kernel(value)  # [out, in, h, w]
        elif name.endswith("weights"):
            value = value.T  # Linear keeps [out, in]
        p[name] = _param(value)

    def forward(images, train):
        h = F.max_pool2d(F.relu(F.conv2d(images, p["conv1/weights"], p["conv1/biases"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p["conv2/weights"], p["conv2/biases"], padding=2)), 2)
        h = F.relu(F.linear(h.flatten(1), p["fc1/weights"], p["fc1/biases"]))
        if train:
            h = F.dropout(h, models.DROPOUT_RATE, training=True)
        return F.linear(h, p["fc2/weights"], p["fc2/biases"])

    pixels, labels = models.mnist_like_batch(images=True)
    images = torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))
    return p, forward, images, torch.from_numpy(labels)


def lenet_train_step(seed=models.SEED):
    p, forward, images, labels = _lenet(seed)
    optimizer = torch.optim.Adam(list(p.values()), lr=models.LENET_LEARNING_RATE)

    def step():
        optimizer.zero_grad()
        penalty = models.REGULARIZATION_RATE * 0.5 * (p["fc1/weights"].square().sum()
                                                      + p["fc2/weights"].square().sum())
        loss = F.cross_entropy(forward(images, train=True), labels) + penalty
        loss.backward()
        optimizer.step()
        return loss

    return step


def lenet_inference_step(seed=models.SEED):
    _, forward, images, _ = _lenet(seed)

    def step():
        with torch.no_grad():
            return forward(images, train=False)

    return step


def tiny_step():
    x = torch.ones(10)

    def step():
        return x * 2 + 1

    return step


def _vgg19(image, weights):
    net, current = {}, image
    for layer in models.VGG19_LAYERS:
        kind = layer[:4]
        if kind == "conv":
            kernel, bias = weights[layer]
            current = F.conv2d(current, kernel, bias, padding=1)
        elif kind == "relu":
            current = F.relu(current)
        else:
            current = F.max_pool2d(current, 2)
        net[layer] = current
    return net


def _gram(features):
    _, channels, height, width = features.shape
    flat = features.reshape(channels, height * width)
    return flat @ flat.T / float(height * width * channels)


def style_step(size, seed=models.SEED):
    weights = {layer: (torch.from_numpy(np.ascontiguousarray(_conv_kernel(k))), torch.from_numpy(b))
               for layer, (k, b) in models.vgg19_weights(seed).items()}
    mean = torch.from_numpy(models.VGG_MEAN).reshape(1, 3, 1, 1)
    content_image, style_image = (torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
                                  for a in models.style_images(size, seed))
    with torch.no_grad():
        content_target = _vgg19(content_image - mean, weights)[models.CONTENT_LAYER]
        style_net = _vgg19(style_image - mean, weights)
        gram_targets = [_gram(style_net[layer]) for layer in models.STYLE_LAYERS]
    image = torch.nn.Parameter(content_image.clone())
    optimizer = torch.optim.Adam([image], lr=models.STYLE_LEARNING_RATE)

    def step():
        optimizer.zero_grad()
        net = _vgg19(image - mean, weights)
        content_loss = models.CONTENT_WEIGHT * (net[models.CONTENT_LAYER] - content_target).square().sum() \
            / content_target.numel()
        style_loss = sum((_gram(net[layer]) - target).square().sum() / target.numel()
                         for layer, target in zip(models.STYLE_LAYERS, gram_targets))
        style_loss = models.STYLE_WEIGHT * style_loss / len(models.STYLE_LAYERS)
        tv_scale = 3 * (size - 1) * size
        tv = ((image[:, :, 1:, :] - image[:, :, :-1, :]).square().sum()
              + (image[:, :, :, 1:] - image[:, :, :, :-1]).square().sum()) / tv_scale
        loss = content_loss + style_loss + models.TV_WEIGHT * tv
        loss.backward()
        optimizer.step()
        return loss

    return step
