"""Fast kernels for matrix products and sums of squares, on the CPU: the work cut into
independent pieces that `ctx.map` may run on several threads (tfcore/client/scheduler.py), or
handed to one BLAS call.

A MatMul is cut into blocks of rows of its result (of columns, where it has more columns than rows),
each one BLAS product of a block of rows of the left operand with the whole right operand (or of
the left operand with a block of columns of the right one), written in place. The blocks depend on
the shapes only, and each result element comes from one BLAS call over the whole inner dimension,
so the values do not depend on the number of threads.
"""

from tfcore.framework.registry import register_fast_kernel
from tfcore.ops import math_ops  # noqa: F401 - registers the ops these kernels are for

# A MatMul is cut into blocks of about this many multiply-adds (and at least MIN_ROWS rows each);
# smaller products run as one BLAS call.
MATMUL_PIECE_FLOPS = 4 * 2**20
MIN_ROWS = 64


def row_blocks(rows, work_per_row, piece_work=MATMUL_PIECE_FLOPS, min_rows=MIN_ROWS):
    """Slices covering `rows` rows, each about `piece_work` / `work_per_row` rows (one slice where
    the whole is smaller than two pieces)."""
    per = max(min_rows, piece_work // max(work_per_row, 1))
    if rows < 2 * per:
        return [slice(0, rows)]
    count = -(-rows // per)
    bounds = [rows * i // count for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _matmul_kernel(ctx, a, b, transpose_a, transpose_b):
    """MatMul in blocks of rows (or columns) of the result, one BLAS product each."""
    xp = ctx.xp
    a = a.T if transpose_a else a
    b = b.T if transpose_b else b
    (m, k), n = a.shape, b.shape[1]
    by_rows = m >= n
    blocks = row_blocks(m, k * n) if by_rows else row_blocks(n, k * m)
    if len(blocks) == 1 or a.dtype != b.dtype or a.dtype.kind != "f":
        return xp.matmul(a, b)
    result = xp.empty((m, n), dtype=a.dtype)
    if by_rows:
        ctx.map(lambda rows: xp.matmul(a[rows], b, out=result[rows]), blocks)
    else:
        ctx.map(lambda cols: xp.matmul(a, b[:, cols], out=result[:, cols]), blocks)
    return result


def _l2_loss_kernel(ctx, t):
    """L2Loss as one BLAS dot product of the values with themselves (no squared copy), halved."""
    flat = t.reshape(-1)
    if t.dtype.kind != "f" or t.dtype.itemsize < 4:  # BLAS has no half-precision dot
        return ctx.xp.sum(t * t) / 2
    return ctx.xp.dot(flat, flat) / 2


FAST_KERNELS = {"MatMul": _matmul_kernel, "L2Loss": _l2_loss_kernel}

for _op_type, _kernel in FAST_KERNELS.items():
    register_fast_kernel(_op_type, "CPU", _kernel)
