"""Histograms as TensorFlow computes them for `tf.summary.histogram`.

TensorFlow counts values into a fixed set of buckets whose edges grow by 10% at a time, from 1e-12
up to 1e20, mirrored for negative values, with 0 in the middle and +-DBL_MAX at the ends (1551
limits in all). Fixed buckets make histograms from different steps comparable. A value v falls in the
first bucket whose limit is greater than v, so bucket i covers ``[limit[i-1], limit[i])``.

When written, each run of empty buckets is collapsed into one empty bucket that ends where the run
ends, so a histogram of a few values is a few dozen numbers, not 774.
"""

import sys

import numpy as np

from tfcore.summary import proto

DBL_MAX = sys.float_info.max


def _make_default_bucket_limits():
    # Multiply step by step, as TF does, so that the limits are bit-for-bit the same.
    positive = []
    limit = 1e-12
    while limit < 1e20:
        positive.append(limit)
        limit *= 1.1
    positive.append(DBL_MAX)
    negative = [-v for v in reversed(positive)]
    return np.array(negative + [0.0] + positive, dtype=np.float64)


DEFAULT_BUCKET_LIMITS = _make_default_bucket_limits()
DEFAULT_BUCKET_LIMITS.setflags(write=False)


def histogram_stats(values, bucket_limits=DEFAULT_BUCKET_LIMITS):
    """Count `values` into buckets; returns a dict with min, max, num, sum, sum_squares and the
    collapsed ``bucket_limit`` and ``bucket`` lists, ready for `proto.histogram`.

    Raises ValueError when a value is NaN or infinite (TF refuses those too). An empty input
    gives num=0 with min=DBL_MAX and max=-DBL_MAX, as TF reports it.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise ValueError("Nan in summary histogram")
    # side="right" finds the first limit strictly greater than each value (C++ upper_bound).
    index = np.searchsorted(bucket_limits, values, side="right")
    np.minimum(index, len(bucket_limits) - 1, out=index)  # only v == DBL_MAX would overflow
    counts = np.bincount(index, minlength=len(bucket_limits)).astype(np.float64)
    # Keep every non-empty bucket, and of each run of empty ones only the last.
    nonempty = counts > 0
    keep = nonempty | np.append(nonempty[1:], True)
    return {
        "min": float(values.min()) if values.size else DBL_MAX,
        "max": float(values.max()) if values.size else -DBL_MAX,
        "num": float(values.size),
        "sum": float(values.sum()),
        "sum_squares": float(np.dot(values, values)),
        "bucket_limit": bucket_limits[keep],
        "bucket": counts[keep],
    }


def histogram_proto(values):
    """A serialized ``HistogramProto`` of `values` with TF's default buckets."""
    return proto.histogram(**histogram_stats(values))
