"""Event files: the TFRecord files of serialized `Event` protos that TensorBoard reads.

Each record on disk is framed so that a reader can detect a torn or corrupted write:

    uint64 length (little-endian)
    uint32 masked CRC32C of those 8 length bytes
    the data (one serialized Event)
    uint32 masked CRC32C of the data

CRC32C is the Castagnoli variant of CRC-32 (reversed polynomial 0x82F63B78). TFRecord "masks" it
(rotate right by 15 bits, add a constant) because computing a CRC over data that itself contains
CRCs is weak.
"""

import os
import socket
import struct
import threading
import time

from tfcore.framework.errors import DataLossError
from tfcore.summary import proto

FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8


def _make_crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data, crc=0):
    """CRC32C of `data` (bytes-like); pass a previous result as `crc` to continue it."""
    table = _CRC32C_TABLE
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The masked CRC32C that TFRecord stores: ``((crc >> 15) | (crc << 17)) + 0xa282ead8``."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data):
    """`data` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + bytes(data)
            + struct.pack("<I", masked_crc32c(data)))


def read_records(path):
    """Yield the data of each record in the TFRecord file at `path`, checking both CRCs.

    Raises `tf.errors.DataLossError` at a corrupted or truncated record.
    """
    with open(path, "rb") as f:
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise DataLossError(None, None, f"{path}: truncated record header at {offset}")
            length_bytes, (length_crc,) = header[:8], struct.unpack("<I", header[8:])
            if masked_crc32c(length_bytes) != length_crc:
                raise DataLossError(None, None, f"{path}: corrupted record length at {offset}")
            (length,) = struct.unpack("<Q", length_bytes)
            data, footer = f.read(length), f.read(4)
            if len(data) < length or len(footer) < 4:
                raise DataLossError(None, None, f"{path}: truncated record at {offset}")
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise DataLossError(None, None, f"{path}: corrupted record data at {offset}")
            offset += 16 + length
            yield data


class EventFileWriter:
    """Writes Events to a new file ``<logdir>/events.out.tfevents.<time>.<hostname><suffix>``.

    The first record is an Event carrying only ``file_version = "brain.Event:2"``. Records go to
    a buffered file; `flush` pushes them to the OS, so a running TensorBoard sees them.
    """

    def __init__(self, logdir, filename_suffix=""):
        os.makedirs(logdir, exist_ok=True)
        self._logdir = logdir
        self._lock = threading.Lock()
        self._file, self._path = self._open_new(logdir, int(time.time()), filename_suffix or "")
        self._closed = False
        self.write_event(proto.event(time.time(), file_version=FILE_VERSION))

    @staticmethod
    def _open_new(logdir, seconds, suffix):
        # Two writers started in the same second would pick the same name (TF then truncates the
        # first file). The second one takes the next second's name instead: TensorBoard reads the
        # files of a run in name order, and this keeps that the order in which they were written.
        hostname = socket.gethostname()
        for later in range(1000):
            path = os.path.join(logdir, f"events.out.tfevents.{seconds + later:010d}.{hostname}{suffix}")
            try:
                return open(path, "xb"), path
            except FileExistsError:
                continue
        raise FileExistsError(f"Could not create a new event file in {logdir}")

    @property
    def path(self):
        """The event file's path."""
        return self._path

    def get_logdir(self):
        """The directory the event file is in."""
        return self._logdir

    def write_event(self, event_bytes):
        """Append one serialized Event as a record."""
        record = encode_record(event_bytes)
        with self._lock:
            if self._closed:
                raise RuntimeError(f"Cannot write to event file {self._path}: the writer is closed.")
            self._file.write(record)

    def add_event(self, wall_time, step, summary_bytes=None, graph_def_bytes=None,
                  tagged_run_metadata_bytes=None):
        """Append an Event with `wall_time`, `step` and a serialized Summary, GraphDef or
        TaggedRunMetadata."""
        self.write_event(proto.event(wall_time, step=step or 0, summary=summary_bytes,
                                     graph_def=graph_def_bytes,
                                     tagged_run_metadata=tagged_run_metadata_bytes))

    def flush(self):
        """Push the records written so far to the file."""
        with self._lock:
            if not self._closed:
                self._file.flush()

    def close(self):
        """Flush and close the file; closing again does nothing."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._file.close()

    @property
    def closed(self):
        """True once `close` has been called."""
        return self._closed
