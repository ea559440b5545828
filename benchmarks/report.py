"""What a run prints and writes into benchmarks/README.md: the header lines (machine, conditions, the
BLAS each engine's worker ran), one table with every condition, the notes, profiles and errors."""

from benchmarks import engines

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
GROUP_LABELS = {"quiet": "quiet", "competing": "competing process", "quota": "one-CPU quota"}


def fmt_value(cell):
    """A cell's value with three significant digits or so; "n/a", "error" or "skipped" otherwise."""
    if cell is None:
        return "n/a"
    if "value" in cell:
        v = cell["value"]
        if v >= 100:
            return f"{v:,.0f}"
        if v >= 10:
            return f"{v:.1f}"
        return f"{v:.2f}" if v >= 1 else f"{v:.3f}"
    if "skipped" in cell:
        return "skipped"
    return "error" if "error" in cell else "n/a"


def _ratio_text(ratio, goal):
    text = "n/a" if ratio is None else f"{ratio:.2f}"
    return f"{text} ({goal['text']})" if goal else text


def _goals_text(goals):
    names = goals["met"] + goals["missed"] + goals["unknown"]
    if not names:
        return "-"
    text = f"{len(goals['met'])} of {len(names)}"
    if goals["missed"]:
        text += f", missed: {', '.join(goals['missed'])}"
    if goals["unknown"]:
        text += f", n/a: {', '.join(goals['unknown'])}"
    return text


def _has_torch(rows):
    return any("value" in (entry["results"].get("torch") or {})
               for row in rows for entry in row["conditions"].values())


def columns(conditions, torch):
    """[(group, name)] of the table: per condition tfcore, TF (PyTorch) and the ratio; steadiness."""
    out = [("", "workload"), ("", "unit")]
    for condition in conditions:
        out += [(condition, "tfcore"), (condition, "TF")] + ([(condition, "PyTorch")] if torch else [])
        out.append((condition, "tfcore/TF"))
    if "quiet" in conditions and "competing" in conditions:
        out += [("steadiness", "tfcore"), ("steadiness", "TF")]
    return out + [("", "goals met")]


def _row_cells(row, conditions, torch, steady):
    cells = [row["name"], row["unit"]]
    width = 3 + torch
    for condition in conditions:
        entry = row["conditions"].get(condition)
        if entry is None:
            cells += ["-"] * width  # a workload measured in the quiet condition only
        elif "skipped" in entry:
            cells += [f"skipped: {entry['skipped']}"] + ["-"] * (width - 1)
        else:
            r = entry["results"]
            cells += [fmt_value(r.get("tfcore")), fmt_value(r.get("tensorflow"))]
            cells += [fmt_value(r.get("torch"))] if torch else []
            cells.append(_ratio_text(entry["ratio"], entry["goal"]))
    if steady:
        s = row["steadiness"]
        cells += ([_ratio_text(s.get("tfcore"), s["goal"]), _ratio_text(s.get("tensorflow"), None)]
                  if s else ["-", "-"])
    return cells + [_goals_text(row["goals"])]


def table_rows(rows, conditions):
    """(columns, body): the table's [(group, name)] columns and its rows of cell texts."""
    torch = _has_torch(rows)
    cols = columns(conditions, torch)
    steady = ("steadiness", "tfcore") in cols
    return cols, [_row_cells(row, conditions, torch, steady) for row in rows]


def text_table(rows, conditions):
    """The table for the terminal: a line of condition groups over the column names."""
    cols, body = table_rows(rows, conditions)
    names = [name for _, name in cols]
    widths = [max(len(str(line[i])) for line in [names, *body]) for i in range(len(cols))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i in (0, 1, len(cols) - 1) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    groups, i = [], 0
    while i < len(cols):  # one label, centred in dashes, over each condition's columns
        group, j = cols[i][0], i
        while j < len(cols) and cols[j][0] == group:
            j += 1
        span = sum(widths[i:j]) + 2 * (j - i - 1)
        groups.append(f" {GROUP_LABELS.get(group, group)} ".center(span, "-") if group else " " * span)
        i = j
    out = ["  ".join(groups).rstrip(), line(names), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    return "\n".join(out + [line(b) for b in body])


def markdown_table(rows, conditions):
    """The table for the README: each column named "condition: name"."""
    cols, body = table_rows(rows, conditions)
    header = [f"{g}: {n}" if g else n for g, n in cols]
    align = ["---" if i in (0, 1, len(cols) - 1) else "---:" for i in range(len(cols))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in b) + " |" for b in body]
    return "\n".join(lines)


def errors_text(rows):
    """One line per cell that has an error: "workload (condition) on engine: error"."""
    lines = []
    for row in rows:
        for condition, entry in row["conditions"].items():
            for engine, cell in entry["results"].items():
                if cell and "error" in cell:
                    lines.append(f"{row['name']} ({condition}) on {engine}: {cell['error']}")
    return lines


def profile_text(profiles, titles, top=8, markdown=False):
    """The FULL_TRACE profiles, per workload and engine the `top` op types by time."""
    lines = []
    for workload, by_engine in profiles.items():
        for engine, rows in by_engine.items():
            total = sum(r["total_ms"] for r in rows)
            title = f"{titles[workload]}, {engines.LABELS[engine]}: {total:.1f} ms in ops"
            parts = ", ".join(f"{r['op_type']} {r['total_ms']:.1f} ms ({100 * r['share']:.0f}%)"
                              for r in rows[:top])
            lines.append(f"- {title}: {parts}" if markdown else f"{title}\n    {parts}")
    return lines


def _blas_text(libraries):
    if not libraries:
        return "no BLAS/OpenMP library loaded"
    if isinstance(libraries, dict):
        return libraries.get("error", "unknown")
    return "; ".join(f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture') or ''}, "
                     f"{lib.get('num_threads')} threads ({lib.get('threading_layer')})".replace(" ,", ",")
                     for lib in libraries)


def _threads_text(threads):
    if isinstance(threads, dict):
        return ", ".join(f"{key}={value}" for key, value in threads.items())
    return str(threads)


def worker_lines(workers):
    """Per worker set and engine: the BLAS after import and after each workload's first step (named
    where it differs from after import), the session's threads where the engine reports them, and
    (quota) whether the worker was in its cgroup."""
    lines = []
    for set_name, by_engine in workers.items():
        for engine, info in by_engine.items():
            if info.get("error"):
                continue
            at_import = _blas_text(info.get("blas_after_import"))
            steps = info.get("after_first_step") or {}
            changed = {name: _blas_text(step["blas"]) for name, step in steps.items()
                       if _blas_text(step["blas"]) != at_import}
            text = at_import + (" after import and after each first step" if steps and not changed
                                else " after import")
            text += "".join(f"; after {name}'s first step {blas}" for name, blas in changed.items())
            threads = {_threads_text(s["session_threads"]) for s in steps.values() if s["session_threads"]}
            if threads:
                text += f"; session threads {' / '.join(sorted(threads))}"
            if "in_cgroup" in info:
                text += "; in its quota cgroup" if info["in_cgroup"] else "; NOT in its quota cgroup"
            label = "quiet, competing" if set_name == "quiet" else set_name
            lines.append(f"- BLAS in the {engines.LABELS[engine]} worker ({label}): {text}")
    return lines


def condition_lines(record):
    """One line on the conditions: what each did, the competing process's load, the quota or why not."""
    parts = []
    if "quiet" in record:
        parts.append("quiet")
    if "competing" in record:
        runs = record["competing"]["processes"]
        cpu = sum(r.get("cpu_seconds") or 0 for r in runs)
        wall = sum(r.get("wall_seconds") or 0 for r in runs)
        gone = all(r["stopped"] for r in runs)
        parts.append(f"competing (one Python busy loop per workload, {len(runs)} started, "
                     f"{'all' if gone else 'NOT all'} killed and reaped; {cpu:.0f} CPU s in {wall:.0f} s)")
    if "quota" in record:
        quota = record["quota"]
        parts.append(f"quota ({quota['mechanism']}, one cgroup per worker)" if "skipped" not in quota
                     else f"quota skipped: {quota['skipped']}")
    return [f"- Conditions: {'; '.join(parts)}"] if parts else []


def machine_lines(report):
    """The lines above the table: machine, versions, load, command, conditions and BLAS per worker."""
    m, settings = report["machine"], report["settings"]
    threads = settings.get("threads")
    threads = f"{threads} per engine (--threads)" if threads else "each engine's default"
    removed = settings.get("blas_overrides_removed") or {}
    removed = ", ".join(f"{k}={v}" for k, v in removed.items()) or "none were set"
    return [
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; RAM {m['ram_gib']} GiB; {m['platform']}",
        f"- Python {m['python']}; NumPy {m['numpy']} ({m['numpy_blas'] or 'BLAS unknown'}); "
        f"TensorFlow {m['tensorflow'] or 'not installed'}; PyTorch {m['torch'] or 'not installed'}; "
        f"tf-course {m['tfcore']}",
        f"- Date: {m['date']}; load average (1, 5, 15 min) at start {settings['load_start']}, "
        f"at end {settings['load_end']}; run took {settings['seconds']:.0f} s",
        f"- Command: `{settings['command']}`; TensorFlow with TF_ENABLE_ONEDNN_OPTS=1; threads: {threads}; "
        f"OpenBLAS overrides removed from the workers' environment: {removed}",
        *condition_lines(report.get("conditions", {})),
        *worker_lines(report.get("workers", {})),
    ]


def load_note(settings, machine):
    """A warning when other processes kept the CPU busy during the run (None when it was quiet)."""
    ends = (settings["load_start"], settings["load_end"])
    if "competing" in settings.get("conditions", ()):
        ends = ends[:1]  # the competing process itself raises the load average at the end
    loads = [load[0] for load in ends if load]
    cores = machine["cores"] or 1
    if loads and max(loads) > 0.5 * cores:
        when = "at the start and end" if len(loads) == 2 else "at the start"
        return (f"note: the machine was busy (1-minute load average {', '.join(map(str, loads))} on {cores} "
                f"cores, {when}): other processes competed for the CPU, and multi-threaded "
                "kernels suffer most from that; the timings and ratios move with the load.")
    return None


def _body(report, markdown):
    """Table, notes, profiles and errors as lines (markdown for the README, text for the terminal)."""
    rows, conditions = report["workloads"], report["settings"]["conditions"]
    body = [markdown_table(rows, conditions) if markdown else text_table(rows, conditions)]
    busy = load_note(report["settings"], report["machine"])
    if busy:
        body += ["", busy[0].upper() + busy[1:]] if markdown else [busy]
    titles = {row["name"]: row["title"] for row in rows}
    if report["profiles"]:
        head = "Where the time goes (quiet; FULL_TRACE, per op type the median of 3 traced steps):"
        body += ["", head, ""] if markdown else ["", head]
        body += profile_text(report["profiles"], titles, markdown=markdown)
    errors = errors_text(rows)
    if errors:
        if markdown:
            body += ["", "Errors:", "", *[f"- {e}" for e in errors]]
        else:
            body += [f"error: {e}" for e in errors]
    return body


def print_report(report):
    """Print the header lines, the table and what follows it."""
    print()
    print("\n".join(machine_lines(report)))
    print()
    print("\n".join(_body(report, markdown=False)))


def update_readme(report, path):
    """Write the header lines, table, notes and profiles between the markers of the README `path`."""
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{path} lacks the markers {README_START} / {README_END}")
    body = [*machine_lines(report), "", *_body(report, markdown=True)]
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(head + README_START + "\n" + "\n".join(body) + "\n" + README_END + tail, encoding="utf-8")
