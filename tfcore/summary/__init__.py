"""`tf.summary`: summary ops and the `FileWriter` that writes them for TensorBoard.

    tf.summary.scalar("loss", loss)
    tf.summary.histogram("weights", weights)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(logdir, sess.graph)
    writer.add_summary(sess.run(merged, feed_dict=...), step)

Files: `summary` (the ops), `writer` (FileWriter, graph to GraphDef), `event_file` (TFRecord event
files with CRC32C), `proto` (the protobuf wire format by hand), `histogram_buckets` and `png` (what the
histogram and image summaries compute).
"""

from tfcore.summary.summary import Summary, histogram, image, merge, merge_all, scalar, text
from tfcore.summary.writer import FileWriter

__all__ = ["FileWriter", "Summary", "histogram", "image", "merge", "merge_all", "scalar", "text"]
