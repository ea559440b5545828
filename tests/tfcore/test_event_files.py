"""Event files written by tfcore.summary, read back with TensorBoard's own reader.

The wire format, CRC and PNG checks run anywhere; the round trips need `tensorboard` (a dev
dependency) and the comparisons with real TensorFlow's summary ops need `tensorflow`.
"""

import glob
import os
import struct
import zlib

import numpy as np
import pytest

from tests.tfcore.harness import require_tf
from tfcore.framework.errors import DataLossError
from tfcore.summary import event_file, histogram_buckets, png, proto
from tfcore.summary.event_file import EventFileWriter, crc32c, masked_crc32c, read_records


def _tensorboard():
    return pytest.importorskip("tensorboard", reason="tensorboard (a dev dependency) is not installed")


def _load_events(path):
    """Every Event in `path`, parsed by TensorBoard's reader (no read-time migration)."""
    _tensorboard()
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    return list(LegacyEventFileLoader(path).Load())


def _write(tmp_path, *events, suffix=""):
    """An event file in tmp_path holding `events`: (step, summary bytes or graph_def bytes)."""
    writer = EventFileWriter(str(tmp_path), filename_suffix=suffix)
    for step, summary_bytes, graph_bytes in events:
        writer.add_event(1234.5 + step, step, summary_bytes=summary_bytes, graph_def_bytes=graph_bytes)
    writer.close()
    return writer.path


def _scalar(tag, value):
    return proto.summary([proto.summary_value(tag, simple_value=value)])


# --- wire format ---------------------------------------------------------------------------------
def test_crc32c_known_vector():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(b"56789", crc=crc32c(b"1234")) == 0xE3069283  # a CRC can be continued


def test_masked_crc32c_matches_tensorboard():
    _tensorboard()
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked

    for data in (b"", b"a", b"123456789", bytes(range(256)) * 3):
        assert masked_crc32c(data) == tb_masked(data)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31, 2**63 - 1, -1, -(2**63)])
def test_varint_round_trip(value):
    encoded = proto.encode_varint(value)
    decoded, end = proto.decode_varint(encoded)
    assert end == len(encoded)
    assert proto.as_int64(decoded) == value
    assert len(encoded) == (10 if value < 0 else max(1, -(-value.bit_length() // 7)))


def test_iter_fields_reads_what_we_write():
    message = (proto.varint_field(1, 150) + proto.bytes_field(2, "hi") + proto.double_field(3, 2.5)
               + proto.float_field(4, 1.5))
    fields = list(proto.iter_fields(message))
    assert fields[0] == (1, proto.VARINT, 150)
    assert fields[1] == (2, proto.LENGTH_DELIMITED, b"hi")
    assert struct.unpack("<d", fields[2][2]) == (2.5,)
    assert struct.unpack("<f", fields[3][2]) == (1.5,)
    assert proto.varint_field(1, 150) == bytes([0x08, 0x96, 0x01])  # the protobuf docs' example


def test_record_framing(tmp_path):
    record = event_file.encode_record(b"hello")
    assert struct.unpack("<Q", record[:8]) == (5,)
    assert struct.unpack("<I", record[8:12]) == (masked_crc32c(record[:8]),)
    assert record[12:17] == b"hello"
    assert struct.unpack("<I", record[17:]) == (masked_crc32c(b"hello"),)


# --- the writer ----------------------------------------------------------------------------------
def test_file_name_and_first_event(tmp_path):
    path = _write(tmp_path, suffix=".v1")
    name = os.path.basename(path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".v1")
    assert os.path.dirname(path) == str(tmp_path)
    first = next(read_records(path))
    fields = {number: value for number, _, value in proto.iter_fields(first)}
    assert fields[3] == b"brain.Event:2"


def test_two_writers_in_one_second_keep_both_files(tmp_path):
    first, second = EventFileWriter(str(tmp_path)), EventFileWriter(str(tmp_path))
    first.close()
    second.close()
    assert first.path != second.path
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2


def test_writer_creates_logdir_and_close_is_idempotent(tmp_path):
    writer = EventFileWriter(str(tmp_path / "a" / "b"))
    assert os.path.isdir(tmp_path / "a" / "b")
    writer.flush()
    writer.close()
    writer.close()
    writer.flush()  # after close: nothing to do, no error
    with pytest.raises(RuntimeError, match="closed"):
        writer.add_event(1.0, 1, summary_bytes=_scalar("x", 1.0))


def test_flush_makes_records_visible(tmp_path):
    writer = EventFileWriter(str(tmp_path))
    writer.add_event(1.0, 7, summary_bytes=_scalar("x", 1.0))
    writer.flush()
    assert len(list(read_records(writer.path))) == 2
    writer.close()


def test_corrupted_record_is_data_loss(tmp_path):
    path = _write(tmp_path, (1, _scalar("a", 1.0), None), (2, _scalar("a", 2.0), None))
    data = bytearray(open(path, "rb").read())
    data[-6] ^= 0x01  # a byte inside the last record's data
    open(path, "wb").write(bytes(data))
    records = read_records(path)
    assert len([next(records), next(records)]) == 2
    with pytest.raises(DataLossError, match="corrupted"):
        next(records)


def test_truncated_record_is_data_loss(tmp_path):
    path = _write(tmp_path, (1, _scalar("a", 1.0), None))
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-3])
    with pytest.raises(DataLossError, match="truncated"):
        list(read_records(path))


def test_tensorboard_reader_detects_corruption(tmp_path):
    path = _write(tmp_path, (1, _scalar("a", 1.0), None), (2, _scalar("a", 2.0), None))
    assert [e.step for e in _load_events(path)] == [0, 1, 2]
    data = bytearray(open(path, "rb").read())
    data[-6] ^= 0x01
    open(path, "wb").write(bytes(data))
    from tensorboard.compat.tensorflow_stub import errors as tb_errors
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New

    reader = PyRecordReader_New(path.encode())
    reader.GetNext()
    reader.GetNext()
    with pytest.raises(tb_errors.DataLossError):
        reader.GetNext()
    # TensorBoard's loader stops at the bad record (it treats it like a half-written one).
    assert [e.step for e in _load_events(path)] == [0, 1]


# --- round trips through TensorBoard -------------------------------------------------------------
def test_scalars_round_trip(tmp_path):
    values = [0.0, 1.5, -2.25, 1e-8, 3.14159]
    path = _write(tmp_path, *[(step, _scalar("loss", v), None) for step, v in enumerate(values)])
    events = _load_events(path)
    assert events[0].file_version == "brain.Event:2"
    scalars = [(e.step, e.summary.value[0].tag, e.summary.value[0].simple_value) for e in events[1:]]
    assert [s[:2] for s in scalars] == [(i, "loss") for i in range(len(values))]
    np.testing.assert_array_equal([s[2] for s in scalars], np.float32(values))
    assert events[2].wall_time == 1235.5


def test_event_accumulator_sees_scalars_histogram_and_images(tmp_path):
    _tensorboard()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rng = np.random.default_rng(0)
    data = rng.normal(size=1000)
    pictures = rng.uniform(size=(2, 5, 7, 3)).astype(np.float32)
    merged = proto.summary([proto.summary_value("hist", histo=histogram_buckets.histogram_proto(data))]
                           + [proto.summary_value(f"img/image/{i}", image=p)
                              for i, p in enumerate(png.image_protos(pictures))])
    path = _write(tmp_path, (1, _scalar("acc", 0.5), None), (2, _scalar("acc", 0.75), None),
                  (3, merged, None))
    acc = EventAccumulator(path, size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["acc"]
    assert tags["histograms"] == ["hist"]
    assert sorted(tags["images"]) == ["img/image/0", "img/image/1"]
    assert [(s.step, s.value) for s in acc.Scalars("acc")] == [(1, 0.5), (2, 0.75)]
    (histo,) = acc.Histograms("hist")
    assert histo.step == 3
    assert histo.histogram_value.num == 1000
    assert histo.histogram_value.min == data.min() and histo.histogram_value.max == data.max()
    assert histo.histogram_value.sum == pytest.approx(data.sum())
    assert histo.histogram_value.sum_squares == pytest.approx(np.sum(data**2))
    assert sum(histo.histogram_value.bucket) == 1000
    (img,) = acc.Images("img/image/1")
    assert (img.width, img.height) == (7, 5)
    assert img.encoded_image_string.startswith(png.PNG_SIGNATURE)


def test_histogram_buckets():
    stats = histogram_buckets.histogram_stats([0.0, 0.5, 0.5, -3.0, 100.0])
    limits, counts = stats["bucket_limit"], stats["bucket"]
    assert counts.sum() == 5 and len(limits) == len(counts)
    assert np.all(np.diff(limits) > 0)
    # each value lies in the bucket ending at the first limit above it
    for value, count in ((0.0, 1), (0.5, 2), (-3.0, 1), (100.0, 1)):
        i = np.searchsorted(limits, value, side="right")
        assert counts[i] == count and limits[i - 1] <= value < limits[i]
    assert limits[-1] == histogram_buckets.DBL_MAX and counts[-1] == 0
    empty = histogram_buckets.histogram_stats([])
    assert empty["num"] == 0 and list(empty["bucket"]) == [0.0]
    assert (empty["min"], empty["max"]) == (histogram_buckets.DBL_MAX, -histogram_buckets.DBL_MAX)
    with pytest.raises(ValueError, match="Nan"):
        histogram_buckets.histogram_stats([1.0, np.nan])


def test_default_bucket_limits_are_tensorflows():
    limits = histogram_buckets.DEFAULT_BUCKET_LIMITS
    middle = len(limits) // 2
    assert limits[middle] == 0.0 and limits[middle + 1] == 1e-12
    np.testing.assert_array_equal(limits[:middle], -limits[:middle:-1])
    assert limits[-2] < 1e20 <= limits[-2] * 1.1 and limits[-1] == histogram_buckets.DBL_MAX
    np.testing.assert_allclose(limits[middle + 2:-1] / limits[middle + 1:-2], 1.1)


# --- images --------------------------------------------------------------------------------------
def _png_pixels(data):
    """Decode one of our PNGs (filter 0 rows) by hand, checking every chunk's CRC."""
    assert data[:8] == png.PNG_SIGNATURE
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + chunk)
        chunks[kind] = chunks.get(kind, b"") + chunk
        pos += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert depth == 8 and b"IEND" in chunks
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, -1)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:].reshape(height, width, channels)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip(channels):
    pixels = np.random.default_rng(channels).integers(0, 256, size=(4, 6, channels), dtype=np.uint8)
    np.testing.assert_array_equal(_png_pixels(png.encode_png(pixels)), pixels)


def test_png_decodes_with_pillow():
    pil = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    import io

    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    decoded = np.asarray(pil.open(io.BytesIO(png.encode_png(pixels))))
    np.testing.assert_array_equal(decoded, pixels)


def test_float_images_are_scaled_like_tensorflow():
    positive = np.array([[[0.0], [0.5], [1.0], [2.0]]], dtype=np.float32)
    np.testing.assert_array_equal(png.to_uint8(positive).ravel(), [0, 63, 127, 255])
    mixed = np.array([[[-2.0], [0.0], [1.0], [2.0]]], dtype=np.float32)
    np.testing.assert_array_equal(png.to_uint8(mixed).ravel(), [1, 128, 191, 255])
    with_nan = np.array([[[1.0, 1.0, 1.0], [np.nan, 0.0, 0.0]]], dtype=np.float32)
    np.testing.assert_array_equal(png.to_uint8(with_nan), [[[255, 255, 255], [255, 0, 0]]])
    assert png.to_uint8(np.zeros((1, 2, 1))).max() == 0
    with pytest.raises(ValueError, match="last dim 1, 3, or 4"):
        png.image_protos(np.zeros((1, 2, 2, 2)))


# --- graph defs ----------------------------------------------------------------------------------
def _example_graph_def():
    float_attrs = {"T": proto.attr_type(proto.data_type_enum("float32")),
                   "_output_shapes": proto.attr_list(shape=[[None, 3]])}
    nodes = [
        proto.node_def("x", "Placeholder", attrs={"dtype": proto.attr_type(1),
                                                  "shape": proto.attr_shape([None, 3])}),
        proto.node_def("w", "Const", device="/device:CPU:0",
                       attrs={"dtype": proto.attr_type(1),
                              "value": proto.attr_tensor(np.eye(3, dtype=np.float32))}),
        proto.node_def("init", "NoOp"),
        proto.node_def("layer/MatMul", "MatMul", ["x", "w", "^init"], attrs=float_attrs),
        proto.node_def("split", "Split", ["layer/MatMul"], attrs={"num_split": proto.attr_int(2),
                                                                  "unknown": proto.attr_shape(None)}),
        proto.node_def("out", "Identity", ["split:1"], attrs={"name": proto.attr_string("hello"),
                                                              "flag": proto.attr_bool(True),
                                                              "rate": proto.attr_float(0.5)}),
    ]
    return proto.graph_def(nodes)


def test_graph_def_round_trip(tmp_path):
    _tensorboard()
    from tensorboard.backend import process_graph
    from tensorboard.compat.proto import graph_pb2

    path = _write(tmp_path, (0, None, _example_graph_def()))
    (event,) = [e for e in _load_events(path) if e.HasField("graph_def")]
    graph = graph_pb2.GraphDef.FromString(event.graph_def)
    assert [(n.name, n.op) for n in graph.node] == [
        ("x", "Placeholder"), ("w", "Const"), ("init", "NoOp"), ("layer/MatMul", "MatMul"),
        ("split", "Split"), ("out", "Identity")]
    nodes = {n.name: n for n in graph.node}
    assert list(nodes["layer/MatMul"].input) == ["x", "w", "^init"]
    assert list(nodes["out"].input) == ["split:1"]
    assert nodes["w"].device == "/device:CPU:0"
    assert nodes["x"].attr["dtype"].type == 1
    assert [d.size for d in nodes["x"].attr["shape"].shape.dim] == [-1, 3]
    assert nodes["split"].attr["unknown"].shape.unknown_rank
    assert nodes["split"].attr["num_split"].i == 2
    assert (nodes["out"].attr["name"].s, nodes["out"].attr["flag"].b) == (b"hello", True)
    assert nodes["out"].attr["rate"].f == 0.5
    (shape,) = nodes["layer/MatMul"].attr["_output_shapes"].list.shape
    assert [d.size for d in shape.dim] == [-1, 3]
    value = nodes["w"].attr["value"].tensor
    assert value.dtype == 1 and [d.size for d in value.tensor_shape.dim] == [3, 3]
    np.testing.assert_array_equal(np.frombuffer(value.tensor_content, np.float32).reshape(3, 3), np.eye(3))
    assert graph.versions.producer > 0
    process_graph.prepare_graph_for_ui(graph, 1024, "_too_large_attrs")  # what the graph plugin does
    assert "MatMul" in str(graph)
    assert graph_pb2.GraphDef.FromString(graph.SerializeToString()) == graph


def test_tensor_proto_strings_and_bools():
    _tensorboard()
    from tensorboard.compat.proto import tensor_pb2

    strings = tensor_pb2.TensorProto.FromString(proto.tensor(np.array([b"a", "b\xe9"], dtype=object)))
    assert strings.dtype == 7 and list(strings.string_val) == [b"a", "b\xe9".encode()]
    bools = tensor_pb2.TensorProto.FromString(proto.tensor(np.array([True, False])))
    assert bools.dtype == 10 and bools.tensor_content == b"\x01\x00"


# --- against real TensorFlow ---------------------------------------------------------------------
def _tf_summary(build):
    """Run a TF1 summary op built by `build(tf)` in real TensorFlow; returns the parsed Summary."""
    _tensorboard()
    from tensorboard.compat.proto import summary_pb2

    tf = require_tf()
    with tf.Graph().as_default():
        op = build(tf)
        with tf.Session() as sess:
            return summary_pb2.Summary.FromString(sess.run(op))


def _decode_png_with_tensorflow(data):
    tf = require_tf()
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(tf.image.decode_png(data))


@pytest.mark.tensorflow
def test_histogram_matches_tensorflow():
    _tensorboard()
    from tensorboard.compat.proto import summary_pb2

    data = np.concatenate([np.random.default_rng(1).normal(scale=3, size=500), [0.0, 0.0, 1e-13]])
    theirs = _tf_summary(lambda tf: tf.summary.histogram("h", tf.constant(data))).value[0].histo
    ours = summary_pb2.HistogramProto.FromString(histogram_buckets.histogram_proto(data))
    assert list(ours.bucket_limit) == list(theirs.bucket_limit)
    assert list(ours.bucket) == list(theirs.bucket)
    assert (ours.min, ours.max, ours.num) == (theirs.min, theirs.max, theirs.num)
    assert ours.sum == pytest.approx(theirs.sum) and ours.sum_squares == pytest.approx(theirs.sum_squares)


@pytest.mark.tensorflow
@pytest.mark.parametrize("kind", ["positive", "mixed", "nan", "uint8", "float64"])
def test_image_pixels_match_tensorflow(kind):
    _tensorboard()
    from tensorboard.compat.proto import summary_pb2

    rng = np.random.default_rng(2)
    batch = rng.normal(size=(2, 4, 5, 3)).astype(np.float32)
    batch = {"positive": np.abs(batch) * 7, "mixed": batch, "float64": batch.astype(np.float64),
             "uint8": (np.abs(batch) * 50).astype(np.uint8)}.get(kind, batch)
    if kind == "nan":
        batch[0, 1, 2, 0] = np.nan
        batch[1, 0, 0, 2] = np.inf
    theirs = _tf_summary(lambda tf: tf.summary.image("im", tf.constant(batch), max_outputs=2)).value
    ours = [summary_pb2.Summary.Image.FromString(p) for p in png.image_protos(batch, max_outputs=2)]
    for mine, value in zip(ours, theirs, strict=True):
        assert (mine.height, mine.width, mine.colorspace) == (4, 5, 3)
        expected = _decode_png_with_tensorflow(value.image.encoded_image_string)
        np.testing.assert_array_equal(_png_pixels(mine.encoded_image_string), expected)

