"""Summary ops: `tf.summary.scalar`, `histogram`, `image`, `text`, `merge` and `merge_all`.

A summary op's output is a scalar string tensor holding one serialized `Summary` protobuf, ready
for `FileWriter.add_summary`. Each op is added to the SUMMARIES collection (or `collections`), so
that `merge_all` can gather them into one op, fetched once per step.

The tag TensorBoard shows is the op's name with its name scope, as in TF1: inside
``with tf.name_scope("train")``, ``scalar("loss", ...)`` is tagged ``train/loss`` (``loss_1`` for a
second summary of the same name). The kernels run on the host: they build protobuf bytes.
"""

import contextlib
import re

import numpy as np

from tfcore.framework import dtypes, errors
from tfcore.framework.graph import GraphKeys, apply_op, convert_to_tensor, get_default_graph
from tfcore.framework.registry import NotDifferentiable, register_op
from tfcore.framework.tensor_shape import TensorShape
from tfcore.summary import histogram_buckets, png, proto

_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w.]")
_IMAGE_DTYPES = (dtypes.uint8, dtypes.float16, dtypes.float32, dtypes.float64)


def _clean_tag(name):
    """`name` with characters TensorBoard does not allow replaced by "_" and no leading "/"."""
    if name is None:
        return None
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


@contextlib.contextmanager
def _summary_scope(name, family, value):
    """Open the summary's name scope (in `value`'s graph); yields ``(tag, scope)``."""
    name, family = _clean_tag(name), _clean_tag(family)
    graph = getattr(value, "graph", None) or get_default_graph()
    with graph.as_default(), graph.name_scope(name if family is None else f"{family}/{name}") as scope:
        # With a family, the tag starts with it again so TensorBoard shows it in the family's tab.
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def _collect(tensor, collections, default):
    graph = tensor.graph
    for key in default if collections is None else collections:
        graph.add_to_collection(key, tensor)


def _string_scalar(data):
    out = np.empty((), dtype=object)
    out[()] = data
    return out


def _on_host(array):
    # Summaries build bytes on the CPU; an array on a GPU (cupy) is copied back first.
    return np.asarray(array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else array)


def _scalar_string_output(inputs, **attrs):
    return [(TensorShape([]), dtypes.string)]


def _check_real(tensor, what):
    if not tensor.dtype.base_dtype.is_numeric:
        raise TypeError(f"{what} summaries need a real-valued tensor, got {tensor.dtype.name}: {tensor}")


# --- scalar --------------------------------------------------------------------------------------
def scalar(name, tensor, collections=None, family=None):
    """A summary of one real number: `tensor` must be a scalar (shape []).

    Returns a scalar string tensor (a serialized Summary with one ``simple_value``), added to the
    collections in `collections` (default ``[GraphKeys.SUMMARIES]``). `family`, if given, prefixes
    the tag so TensorBoard groups the summary in that tab.
    """
    with _summary_scope(name, family, tensor) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        _check_real(tensor, "Scalar")
        if tensor.shape.ndims not in (None, 0):
            raise ValueError(f"tf.summary.scalar needs a scalar tensor; '{tag}' got shape {tensor.shape}")
        summary = apply_op("ScalarSummary", [tensor], {"tag": tag}, name=scope)
    _collect(summary, collections, [GraphKeys.SUMMARIES])
    return summary


def _scalar_summary_kernel(ctx, value, tag):
    value = _on_host(value)
    if value.shape != ():
        raise errors.InvalidArgumentError(
            None, None, f"tags and values not the same shape: [] != {list(value.shape)} (tag '{tag}')")
    return _string_scalar(proto.summary([proto.summary_value(tag, simple_value=float(value))]))


register_op("ScalarSummary", shape=_scalar_string_output, kernel=_scalar_summary_kernel)
NotDifferentiable("ScalarSummary")


# --- histogram -----------------------------------------------------------------------------------
def histogram(name, values, collections=None, family=None):
    """A histogram of all the values of `values` (any shape), with TensorFlow's bucket limits.

    Running it fails with InvalidArgumentError if a value is NaN or infinite.
    """
    with _summary_scope(name, family, values) as (tag, scope):
        values = convert_to_tensor(values)
        _check_real(values, "Histogram")
        summary = apply_op("HistogramSummary", [values], {"tag": tag}, name=scope)
    _collect(summary, collections, [GraphKeys.SUMMARIES])
    return summary


def _histogram_summary_kernel(ctx, values, tag):
    try:
        histo = histogram_buckets.histogram_proto(_on_host(values))
    except ValueError:
        raise errors.InvalidArgumentError(None, None, f"Nan in summary histogram for: {tag}") from None
    return _string_scalar(proto.summary([proto.summary_value(tag, histo=histo)]))


register_op("HistogramSummary", shape=_scalar_string_output, kernel=_histogram_summary_kernel)
NotDifferentiable("HistogramSummary")


# --- image ---------------------------------------------------------------------------------------
def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Images from a batch `tensor` of shape [batch, height, width, channels], channels 1
    (grayscale), 3 (RGB) or 4 (RGBA), dtype uint8 or float.

    At most `max_outputs` images are written, tagged ``<tag>/image/0``, ``<tag>/image/1``, ... (just
    ``<tag>/image`` when max_outputs is 1). uint8 pixels are kept; float images are scaled per
    image: if no value is negative, the largest maps to 255; otherwise 0 maps to 128 and the value
    of largest magnitude to 1 or 255. Pixels with NaN or infinity are drawn red.
    """
    if int(max_outputs) < 1:
        raise ValueError(f"max_outputs must be at least 1, got {max_outputs}")
    with _summary_scope(name, family, tensor) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        if tensor.dtype.base_dtype not in _IMAGE_DTYPES:
            raise TypeError(f"Image summaries take uint8, float16, float32 or float64 images, got "
                            f"{tensor.dtype.name}: {tensor}")
        shape = tensor.shape
        if shape.ndims is not None and (shape.ndims != 4 or shape.as_list()[-1] not in (None, 1, 3, 4)):
            raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {shape} (summary '{tag}')")
        summary = apply_op("ImageSummary", [tensor], {"tag": tag, "max_images": int(max_outputs)},
                           name=scope)
    _collect(summary, collections, [GraphKeys.SUMMARIES])
    return summary


def _image_summary_kernel(ctx, images, tag, max_images):
    try:
        pictures = png.image_protos(_on_host(images), max_outputs=max_images)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, None, f"{e} (image summary '{tag}')") from None
    if max_images == 1:
        tags = [f"{tag}/image"]
    else:
        tags = [f"{tag}/image/{i}" for i in range(len(pictures))]
    return _string_scalar(proto.summary([proto.summary_value(t, image=p) for t, p in zip(tags, pictures)]))


register_op("ImageSummary", shape=_scalar_string_output, kernel=_image_summary_kernel)
NotDifferentiable("ImageSummary")


# --- text ----------------------------------------------------------------------------------------
def text(name, tensor, collections=None):
    """Text (a string tensor of any shape) for TensorBoard's Text tab; Markdown is rendered."""
    with _summary_scope(name, None, tensor) as (tag, scope):
        tensor = convert_to_tensor(tensor)
        if tensor.dtype.base_dtype != dtypes.string:
            raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got {tensor.dtype.name}")
        summary = apply_op("TensorSummaryV2", [tensor], {"tag": tag, "plugin_name": "text"}, name=scope)
    _collect(summary, collections, [GraphKeys.SUMMARIES])
    return summary


def _tensor_summary_kernel(ctx, tensor, tag, plugin_name):
    value = proto.summary_value(tag, tensor=proto.tensor(_on_host(tensor)),
                                metadata=proto.summary_metadata(plugin_name))
    return _string_scalar(proto.summary([value]))


register_op("TensorSummaryV2", shape=_scalar_string_output, kernel=_tensor_summary_kernel)
NotDifferentiable("TensorSummaryV2")


# --- merging -------------------------------------------------------------------------------------
def merge(inputs, collections=None, name=None):
    """One summary holding all the values of the summaries in `inputs` (string tensors).

    The result is added to no collection unless `collections` names some. Running it fails with
    InvalidArgumentError if two inputs use the same tag.
    """
    inputs = [convert_to_tensor(t) for t in inputs]
    for t in inputs:
        if t.dtype.base_dtype != dtypes.string:
            raise TypeError(f"merge takes summary (string) tensors, got {t.dtype.name}: {t}")
    graph = inputs[0].graph if inputs else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "Merge"):
        merged = apply_op("MergeSummary", inputs, name=name or "MergeSummary")
    _collect(merged, collections, [])
    return merged


def _merge_summary_kernel(ctx, *summaries):
    # A Summary is a list of repeated field-1 Values, so concatenating the bytes merges them.
    parts, seen = [], set()
    for array in summaries:
        for data in _on_host(array).ravel():
            data = bytes(data)
            for number, _, value in proto.iter_fields(data):
                if number != 1:
                    continue
                tag = next((v for n, _, v in proto.iter_fields(value) if n == 1), b"").decode("utf-8")
                if tag in seen:
                    raise errors.InvalidArgumentError(None, None,
                                                      f"Duplicate tag {tag} found in summary inputs")
                seen.add(tag)
            parts.append(data)
    return _string_scalar(b"".join(parts))


register_op("MergeSummary", shape=_scalar_string_output, kernel=_merge_summary_kernel)
NotDifferentiable("MergeSummary")


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` of every summary in collection `key` of the default graph (only those whose name
    matches `scope`, if given); None when there are none."""
    summaries = get_default_graph().get_collection(key, scope=scope)
    return merge(summaries, name=name) if summaries else None


# --- a Summary built in Python -------------------------------------------------------------------
class Summary:
    """`tf.Summary`, for values computed outside the graph, e.g. an accuracy over a whole test set:

        summary = tf.Summary(value=[tf.Summary.Value(tag="test/accuracy", simple_value=acc)])
        writer.add_summary(summary, step)
    """

    class Image:
        """`tf.Summary.Image`: an encoded (PNG) image and its size."""

        def __init__(self, height=0, width=0, colorspace=0, encoded_image_string=b""):
            self.height, self.width = height, width
            self.colorspace, self.encoded_image_string = colorspace, encoded_image_string

        def SerializeToString(self):  # noqa: N802 - protobuf's name
            """The serialized ``Summary.Image``."""
            return proto.image(self.height, self.width, self.colorspace, self.encoded_image_string)

    class Value:
        """`tf.Summary.Value`: a tag with a `simple_value` (a float) or an `image`."""

        def __init__(self, tag="", simple_value=None, image=None):
            self.tag, self.simple_value, self.image = tag, simple_value, image

        def SerializeToString(self):  # noqa: N802 - protobuf's name
            """The serialized ``Summary.Value``."""
            image = None if self.image is None else self.image.SerializeToString()
            return proto.summary_value(self.tag, simple_value=self.simple_value, image=image)

    def __init__(self, value=None):
        self.value = list(value or [])

    def SerializeToString(self):  # noqa: N802 - protobuf's name
        """The serialized ``Summary``."""
        return proto.summary([v.SerializeToString() for v in self.value])
