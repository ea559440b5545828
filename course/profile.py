"""Where a step's time goes: per-op-type tables and bar charts from a traced run's `RunMetadata`.

    run_metadata = tf.RunMetadata()
    sess.run(train_step, feed_dict=feed, run_metadata=run_metadata,
             options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE))
    print(profile.format_table(profile.op_table(run_metadata, graph=sess.graph)))
    profile.plot_profile(run_metadata, title="One LeNet-5 training step", graph=sess.graph)

Both engines fill ``run_metadata.step_stats.dev_stats[*].node_stats``: one record per op executed,
with its name and its start and duration in microseconds. tfcore also records each op's type; for
TensorFlow the type comes from `graph` (by op name) or, without a graph, from the record's
``timeline_label`` ("name = Type(inputs)", which names TF's kernel, e.g. ``_MklMatMul``).
"""

import re
from dataclasses import dataclass

__all__ = ["OpTypeRow", "NodeTime", "node_times", "op_table", "format_table", "print_profile", "plot_profile"]

_RUNTIME_NODES = {"_SOURCE", "_SINK"}  # TF's executor bookkeeping, not ops of the graph
_LABEL = re.compile(r"^\s*[^=]+=\s*([A-Za-z0-9_.>-]+)\(")


@dataclass(frozen=True)
class NodeTime:
    """One op execution of a traced run: its name, type, device and duration in microseconds."""

    name: str
    op_type: str
    device: str
    micros: float


@dataclass(frozen=True)
class OpTypeRow:
    """One row of the per-op-type table: how often ops of `op_type` ran and how long they took."""

    op_type: str
    count: int
    total_ms: float
    share: float  # of the total time of all ops, 0..1

    @property
    def mean_ms(self):
        return self.total_ms / self.count if self.count else 0.0


def _duration_micros(stat):
    """A record's duration: nanoseconds where TF has them, else microseconds (tfcore)."""
    nanos = getattr(stat, "all_end_rel_nanos", 0) or 0
    if nanos > 0:
        return nanos / 1000.0
    micros = getattr(stat, "all_end_rel_micros", 0) or 0
    if micros <= 0:
        micros = (getattr(stat, "op_end_rel_micros", 0) or 0) - (getattr(stat, "op_start_rel_micros", 0) or 0)
    return float(max(micros, 0))


def _type_lookup(graph):
    """op name -> op type for every op of `graph` (None: no lookup)."""
    if graph is None:
        return {}
    return {op.name: op.type for op in graph.get_operations()}


def _op_type(stat, types):
    op_type = getattr(stat, "op_type", None)  # tfcore records the type itself
    if op_type:
        return op_type
    name = stat.node_name
    if name in types:
        return types[name]
    match = _LABEL.match(getattr(stat, "timeline_label", "") or "")
    return match.group(1) if match else "unknown"


def _metadata_list(metadata):
    return list(metadata) if isinstance(metadata, (list, tuple)) else [metadata]


def node_times(metadata, graph=None):
    """Every op execution recorded in `metadata` (a `RunMetadata`, or a list of them for several
    traced steps) as `NodeTime` records, in the order recorded. TF's ``_SOURCE``/``_SINK`` are left
    out. `graph` names the op types of a TensorFlow trace."""
    types = _type_lookup(graph)
    records = []
    for md in _metadata_list(metadata):
        for dev in md.step_stats.dev_stats:
            for stat in dev.node_stats:
                if stat.node_name in _RUNTIME_NODES:
                    continue
                records.append(NodeTime(stat.node_name, _op_type(stat, types), dev.device,
                                        _duration_micros(stat)))
    if not records and not any(md.step_stats.dev_stats for md in _metadata_list(metadata)):
        raise ValueError("course.profile: the RunMetadata holds no step stats; run the step with "
                         "options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE) and "
                         "run_metadata=<it>")
    return records


def op_table(metadata, graph=None):
    """The time per op type, largest first: a list of `OpTypeRow` (op type, count, total ms, share)."""
    totals, counts = {}, {}
    for record in node_times(metadata, graph):
        totals[record.op_type] = totals.get(record.op_type, 0.0) + record.micros
        counts[record.op_type] = counts.get(record.op_type, 0) + 1
    grand = sum(totals.values())
    rows = [OpTypeRow(t, counts[t], totals[t] / 1000.0, totals[t] / grand if grand > 0 else 0.0)
            for t in totals]
    rows.sort(key=lambda row: (-row.total_ms, row.op_type))
    return rows


def format_table(rows, top=None):
    """`op_table` rows as a plain-text table (the first `top` rows, the rest summed as "other"),
    with a total line."""
    rows = list(rows)
    shown = rows if top is None or len(rows) <= top else rows[:top]
    rest = rows[len(shown):]
    lines_data = [(r.op_type, r.count, r.total_ms, r.share) for r in shown]
    if rest:
        lines_data.append((f"other ({len(rest)} types)", sum(r.count for r in rest),
                           sum(r.total_ms for r in rest), sum(r.share for r in rest)))
    total_ms = sum(r.total_ms for r in rows)
    width = max([len("op type"), len("total")] + [len(d[0]) for d in lines_data])
    header = f"{'op type':<{width}}  {'count':>6}  {'total ms':>10}  {'share':>6}"
    lines = [header, "-" * len(header)]
    for op_type, count, ms, share in lines_data:
        lines.append(f"{op_type:<{width}}  {count:>6d}  {ms:>10.3f}  {100 * share:>5.1f}%")
    lines.append("-" * len(header))
    lines.append(f"{'total':<{width}}  {sum(r.count for r in rows):>6d}  {total_ms:>10.3f}  "
                 f"{100.0 if rows else 0.0:>5.1f}%")
    return "\n".join(lines)


def print_profile(metadata, graph=None, top=15):
    """Print the per-op-type table of a traced run."""
    print(format_table(op_table(metadata, graph), top=top))


def plot_profile(metadata, title, top=15, graph=None, ax=None):
    """A horizontal bar chart of the time per op type (the `top` largest, the rest as "other"), with
    each bar's share written beside it. Returns the `Axes`."""
    from course import plots

    rows = op_table(metadata, graph)
    shown, rest = rows[:top], rows[top:]
    labels = [f"{r.op_type} (×{r.count})" for r in shown]
    values = [r.total_ms for r in shown]
    shares = [r.share for r in shown]
    if rest:
        labels.append(f"other ({len(rest)} types)")
        values.append(sum(r.total_ms for r in rest))
        shares.append(sum(r.share for r in rest))
    ax = plots.bar(labels, values, title=title, xlabel="total time (ms)", ylabel="op type (×count)",
                   horizontal=True, ax=ax)
    for i, (value, share) in enumerate(zip(values, shares)):
        ax.text(value, i, f" {100 * share:.1f}%", va="center", fontsize=8)
    ax.set_xlim(0, max(values, default=1.0) * 1.15 or 1.0)
    return ax
