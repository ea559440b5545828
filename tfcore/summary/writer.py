"""`tf.summary.FileWriter`: summaries and the graph into an event file TensorBoard reads.

    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter("runs/mnist", sess.graph)
    for step in range(1000):
        summary, _ = sess.run([merged, train_op], feed_dict=...)
        writer.add_summary(summary, step)
    writer.close()

The graph is written as a GraphDef: one NodeDef per operation with its name, type, inputs
(``"op"`` for output 0, ``"op:1"`` for others, ``"^op"`` for a control input), device and attrs,
plus ``_output_shapes`` so that TensorBoard labels the edges with shapes.
"""

import threading
import time

import numpy as np

from tfcore.framework.graph_def import GraphDef
from tfcore.framework.tensor_shape import dims_or_none
from tfcore.summary import proto
from tfcore.summary.event_file import EventFileWriter

# Like TensorBoard's graph plugin: attrs bigger than this (the weights in a Const) are left out
# and listed in "_too_large_attrs", so a graph holding a model's weights stays small.
LARGE_ATTR_LIMIT = 1024
LARGE_ATTRS_KEY = "_too_large_attrs"


# --- graph -> GraphDef ---------------------------------------------------------------------------
def _is_dtype(value):
    return hasattr(value, "as_numpy_dtype") and hasattr(value, "base_dtype")


def _is_shape(value):
    return hasattr(value, "ndims") and hasattr(value, "as_list")


def _attr_value(value):
    """`value` (an op attribute) as a serialized AttrValue, or None for what a GraphDef can't hold."""
    try:
        if _is_dtype(value):
            return proto.attr_type(proto.data_type_enum(value.name))
        if _is_shape(value):
            return proto.attr_shape(dims_or_none(value))
        if isinstance(value, bool | np.bool_):
            return proto.attr_bool(value)
        if isinstance(value, int | np.integer):
            return proto.attr_int(value)
        if isinstance(value, float | np.floating):
            return proto.attr_float(value)
        if isinstance(value, str | bytes):
            return proto.attr_string(value)
        if isinstance(value, np.ndarray):
            return proto.attr_tensor(value)
        if isinstance(value, list | tuple):
            return _attr_list(list(value))
    except (ValueError, OverflowError, TypeError):
        pass
    return None


def _attr_list(values):
    if all(_is_dtype(v) for v in values):
        return proto.attr_list(type=[proto.data_type_enum(v.name) for v in values])
    if all(_is_shape(v) for v in values):
        return proto.attr_list(shape=[dims_or_none(v) for v in values])
    if all(isinstance(v, bool | np.bool_) for v in values):
        return proto.attr_list(b=values)
    if all(isinstance(v, int | np.integer) for v in values):
        return proto.attr_list(i=values)
    if all(isinstance(v, float | int | np.floating | np.integer) for v in values):
        return proto.attr_list(f=values)
    if all(isinstance(v, str | bytes) for v in values):
        return proto.attr_list(s=values)
    return None


def _input_name(name):
    # A GraphDef names output 0 of "op" just "op".
    return name[:-2] if name.endswith(":0") else name


def node_def_bytes(node, outputs=None):
    """A serialized NodeDef for `node`, a dict like `Operation.node_def` (name, op, input, device,
    attr); `outputs`, the op's output tensors, adds ``_output_shapes`` (and ``T``, the dtype of
    output 0, when no attr is a dtype)."""
    attrs, too_large = {}, []
    node_attrs = node.get("attr", {})
    for key, value in node_attrs.items():
        if isinstance(value, np.ndarray) and value.dtype != object and value.nbytes > LARGE_ATTR_LIMIT:
            too_large.append(key)  # clearly too large: not worth encoding
            continue
        encoded = _attr_value(value)
        if encoded is None:
            continue
        if len(encoded) > LARGE_ATTR_LIMIT:
            too_large.append(key)
        else:
            attrs[key] = encoded
    if too_large:
        attrs[LARGE_ATTRS_KEY] = proto.attr_list(s=sorted(too_large))
    if outputs:
        attrs["_output_shapes"] = proto.attr_list(shape=[dims_or_none(t.shape) for t in outputs])
        if not any(_is_dtype(v) for v in node_attrs.values()):
            encoded = _attr_value(outputs[0].dtype)
            if encoded is not None:
                attrs["T"] = encoded
    inputs = [_input_name(name) for name in node.get("input", [])]
    return proto.node_def(node["name"], node["op"], inputs, node.get("device", ""), attrs)


def graph_def_bytes(graph):
    """A serialized (protobuf) GraphDef of a tfcore `Graph`, of the `GraphDef` that
    `Graph.as_graph_def()` returns, or of a list of node dicts."""
    if hasattr(graph, "get_operations"):
        nodes = [node_def_bytes(op.node_def, op.outputs) for op in graph.get_operations()]
    elif isinstance(graph, GraphDef):
        nodes = [node_def_bytes({"name": n.name, "op": n.op, "input": list(n.input), "device": n.device,
                                 "attr": dict(n.attr)}) for n in graph.node]
    else:
        nodes = [node_def_bytes(node) for node in graph]
    return proto.graph_def(nodes)


# --- the writer ----------------------------------------------------------------------------------
def _serialized(message, what):
    if isinstance(message, np.ndarray) and message.dtype == object and message.shape == ():
        message = message[()]
    if hasattr(message, "SerializeToString"):
        message = message.SerializeToString()
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message)
    raise TypeError(f"{what} must be the serialized bytes `sess.run` returns for a summary op "
                    f"(or a proto with SerializeToString), not {type(message).__name__}.")


class FileWriter:
    """Writes summaries and graphs to a new event file in `logdir` (created if missing).

    `graph`, if given, is written at once (as `add_graph` would). Events are flushed to disk every
    `flush_secs` seconds by a background thread, on `flush()` and on `close()`. Usable as a
    context manager, which closes it.
    """

    def __init__(self, logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
                 filename_suffix=None, session=None):
        self._logdir = str(logdir)
        self._filename_suffix = filename_suffix or ""
        self._flush_secs = flush_secs
        self._writer = None
        self._stop = None
        self.reopen()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self):
        """The directory holding the event file."""
        return self._logdir

    def reopen(self):
        """After `close`, start a new event file in the same directory; otherwise do nothing."""
        if self._writer is not None and not self._writer.closed:
            return
        self._writer = EventFileWriter(self._logdir, self._filename_suffix)
        self._stop = threading.Event()
        if self._flush_secs and self._flush_secs > 0:
            thread = threading.Thread(target=self._flush_periodically, args=(self._writer, self._stop),
                                      name="FileWriterFlusher", daemon=True)
            thread.start()

    def _flush_periodically(self, writer, stop):
        while not stop.wait(self._flush_secs):
            writer.flush()

    def _write(self, step, summary=None, graph_def=None, run_metadata=None):
        if self._writer.closed:
            raise RuntimeError(f"This FileWriter for '{self._logdir}' is closed; call reopen() to "
                               "write to a new event file.")
        self._writer.add_event(time.time(), 0 if step is None else int(step), summary_bytes=summary,
                               graph_def_bytes=graph_def, tagged_run_metadata_bytes=run_metadata)

    def add_summary(self, summary, global_step=None):
        """Write a summary (the bytes `sess.run(summary_op)` returns) for step `global_step`."""
        self._write(global_step, summary=_serialized(summary, "summary"))

    def add_graph(self, graph, global_step=None, graph_def=None):
        """Write `graph` (a tfcore Graph, e.g. `sess.graph`) as a GraphDef for TensorBoard's
        Graphs tab; `graph_def` may instead be serialized GraphDef bytes or node dicts."""
        if graph is not None and graph_def is not None:
            raise ValueError("Please pass only graph or graph_def (deprecated), but not both.")
        if graph is not None:
            data = graph_def_bytes(graph)
        elif isinstance(graph_def, GraphDef):  # its own bytes are JSON; TensorBoard reads protobuf
            data = graph_def_bytes(graph_def)
        elif isinstance(graph_def, bytes) or hasattr(graph_def, "SerializeToString"):
            data = _serialized(graph_def, "graph_def")
        elif graph_def is not None:
            data = graph_def_bytes(graph_def)
        else:
            raise ValueError("add_graph needs a graph (or a graph_def).")
        self._write(global_step, graph_def=data)

    def add_run_metadata(self, run_metadata, tag, global_step=None):
        """Write the per-op timings of a traced run, for TensorBoard's Graphs tab ("Session runs"):

            options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
            run_metadata = tf.RunMetadata()
            sess.run(train_op, feed_dict=..., options=options, run_metadata=run_metadata)
            writer.add_run_metadata(run_metadata, f"step{step}")
        """
        if hasattr(run_metadata, "step_stats"):
            devices = [(dev.device, [proto.node_exec_stats(
                n.node_name, n.all_start_micros, n.op_start_rel_micros, n.op_end_rel_micros,
                n.all_end_rel_micros, getattr(n, "timeline_label", "")) for n in dev.node_stats])
                for dev in run_metadata.step_stats.dev_stats]
            data = proto.run_metadata(devices)
        else:
            data = _serialized(run_metadata, "run_metadata")
        self._write(global_step, run_metadata=proto.tagged_run_metadata(tag, data))

    def add_event(self, event):
        """Write an Event (serialized bytes, or a proto with SerializeToString) as it is."""
        if self._writer.closed:
            raise RuntimeError(f"This FileWriter for '{self._logdir}' is closed.")
        self._writer.write_event(_serialized(event, "event"))

    def flush(self):
        """Write everything added so far to disk."""
        self._writer.flush()

    def close(self):
        """Flush and close the event file; closing twice is harmless."""
        if self._stop is not None:
            self._stop.set()
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
