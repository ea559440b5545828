"""The two VGG19 weight files read into plain arrays: Keras's HDF5 file and MatConvNet's .mat file.

Only the file formats are handled here; `course.style.vgg.load_keras_h5` and `load_matconvnet` turn what
these readers return into `VGG19Weights` (RGB input, HWIO kernels).
"""

import numpy as np

__all__ = ["read_keras_h5", "read_matconvnet"]


def _keras_name(name):
    block, index = name[4:].split("_")
    return f"block{block}_conv{index}"


def _decode(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_keras_h5(path, layers):
    """The kernels and biases ({layer: float32 array}) of the conv `layers` (``"conv1_1"``, ...) in Keras's
    ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``, as stored (HWIO, the first layer's input BGR).

    The file has one HDF5 group per layer (``block1_conv1``, ..., ``block5_pool``), whose attribute
    ``weight_names`` lists its datasets (``block1_conv1_W_1:0``: the kernel, ``block1_conv1_b_1:0``:
    the bias). Needs h5py.
    """
    try:
        import h5py
    except ImportError:
        raise ImportError("course.style.vgg.load_keras_h5 needs h5py (pip install h5py)") from None
    kernels, biases = {}, {}
    with h5py.File(path, "r") as f:
        for name in layers:
            group_name = _keras_name(name)
            if group_name not in f:
                raise ValueError(f"{path}: no group {group_name!r} (layer {name}); is this the Keras VGG19 "
                                 "weight file?")
            group = f[group_name]
            names = [_decode(n) for n in group.attrs.get("weight_names", ())]
            if not names:  # no attribute: the datasets of the group in the file's usual naming
                names = [f"{group_name}_W_1:0", f"{group_name}_b_1:0"]
            if len(names) != 2 or any(n not in group for n in names):
                raise ValueError(f"{path}: group {group_name!r} should hold a kernel and a bias, "
                                 f"found {names}")
            kernels[name] = np.asarray(group[names[0]], dtype=np.float32)
            biases[name] = np.asarray(group[names[1]], dtype=np.float32)
    return kernels, biases


def _field(record, name, path, where):
    names = record.dtype.names or ()
    if name not in names:
        raise ValueError(f"{path}: {where} has no field {name!r} (it has {list(names)}); is this the "
                         "MatConvNet imagenet-vgg-verydeep-19.mat file?")
    return record[name]


def _unwrap(value):
    """Strip MATLAB's 1x1 cell and struct wrappers that scipy.io.loadmat leaves around a value."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.reshape(-1)[0]
    return value


def read_matconvnet(path, layers):
    """The kernels and biases ({layer: array}) of the conv `layers` in MatConvNet's
    ``imagenet-vgg-verydeep-19.mat`` (kernels transposed to HWIO from the file's [width, height, in,
    out]), and its mean pixel.

    ``layers`` in the file is a 1xL cell array of structs (``name``, ``type``, ``weights``, ...); a conv
    layer's ``weights`` is a 1x2 cell {kernel, bias}. The mean pixel is ``meta.normalization.averageImage``
    (a 1x1x3 array; the older file version has a whole mean image in ``normalization.averageImage``,
    averaged here). Needs SciPy.
    """
    try:
        import scipy.io
    except ImportError:
        raise ImportError("course.style.vgg.load_matconvnet needs SciPy (pip install scipy)") from None
    data = scipy.io.loadmat(path)
    if "layers" not in data:
        raise ValueError(f"{path}: no 'layers' variable; is this the MatConvNet imagenet-vgg-verydeep-19.mat "
                         "file?")
    if "normalization" in data:  # the older file version
        normalization = _unwrap(data["normalization"])
    elif "meta" in data:
        normalization = _unwrap(_field(_unwrap(data["meta"]), "normalization", path, "meta"))
    else:
        raise ValueError(f"{path}: neither 'meta' nor 'normalization' found, so no mean pixel")
    average = np.asarray(_unwrap(_field(normalization, "averageImage", path, "normalization")), np.float64)
    mean_pixel = average.reshape(-1, 3).mean(axis=0)
    kernels, biases = {}, {}
    for layer in np.asarray(data["layers"]).reshape(-1):
        layer = _unwrap(layer)
        name = str(np.asarray(_unwrap(_field(layer, "name", path, "a layer"))).reshape(-1)[0])
        if name not in layers:
            continue
        cell = _field(layer, "weights", path, f"layer {name}")
        parts = [np.asarray(part) for part in np.asarray(_unwrap_cell(cell), dtype=object).reshape(-1)]
        if len(parts) != 2:
            raise ValueError(f"{path}: layer {name} should have 2 weight arrays (kernel, bias), "
                             f"has {len(parts)}")
        kernels[name] = np.transpose(parts[0], (1, 0, 2, 3))  # [width, height, in, out] -> HWIO
        biases[name] = parts[1].reshape(-1)
    missing = [name for name in layers if name not in kernels]
    if missing:
        raise ValueError(f"{path}: conv layers {missing} not found in 'layers'")
    return kernels, biases, mean_pixel


def _unwrap_cell(cell):
    """The 1x2 weights cell of a layer, however many 1x1 wrappers loadmat put around it."""
    cell = np.asarray(cell)
    while cell.dtype == object and cell.size == 1 and isinstance(cell.reshape(-1)[0], np.ndarray) \
            and cell.reshape(-1)[0].dtype == object:
        cell = cell.reshape(-1)[0]
    return cell
