"""The goals and how a row meets them: per condition the ratio tfcore/TF (tfcore's value over
TensorFlow's, in the same condition), and for the timed workloads tfcore's steadiness (its median with
the competing process over its quiet median)."""

STEADINESS_GOAL = 1.5  # tfcore's competing median at most 1.5 times its quiet median
BIG_LIMIT_MIB = 4096  # "a VGG19 style iteration at 512x512 must fit in 4 GiB"


def goal_for(workload, condition):
    """The goal of `workload` in `condition` as a dict ({"kind", "value", "text"}), or None."""
    if workload.name == "style_512_memory" and condition == "quiet":
        return {"kind": "tfcore_at_most", "value": BIG_LIMIT_MIB, "unit": "MiB",
                "text": f"tfcore <= {BIG_LIMIT_MIB // 1024} GiB"}
    value = workload.goals.get(condition)
    if value is None:
        return None
    return {"kind": "ratio_at_most", "value": value, "text": f"<= {value:.1f}"}


def _value(results, engine):
    return (results.get(engine) or {}).get("value")


def evaluate_condition(workload, condition, results):
    """One condition of a row: the cells, the ratio tfcore/TF and whether its goal is met (None where
    that cannot be said: a missing value, or no goal)."""
    a, b = _value(results, "tfcore"), _value(results, "tensorflow")
    ratio = a / b if a is not None and b else None
    goal = goal_for(workload, condition)
    met = None
    if goal and goal["kind"] == "ratio_at_most" and ratio is not None:
        met = ratio <= goal["value"]
    elif goal and goal["kind"] == "tfcore_at_most" and a is not None:
        met = a <= goal["value"]
    entry = {"results": results, "ratio": ratio, "goal": goal, "goal_met": met}
    skipped = {cell["skipped"] for cell in results.values() if cell and "skipped" in cell}
    if skipped:
        entry["skipped"] = "; ".join(sorted(skipped))
    return entry


def steadiness(conditions):
    """Per engine its competing median over its quiet median, tfcore's against STEADINESS_GOAL;
    None where the row lacks one of the two conditions."""
    if "quiet" not in conditions or "competing" not in conditions:
        return None
    quiet, competing = conditions["quiet"]["results"], conditions["competing"]["results"]
    out = {}
    for engine in quiet:
        q, c = _value(quiet, engine), _value(competing, engine)
        out[engine] = c / q if q and c is not None else None
    out["goal"] = {"kind": "at_most", "value": STEADINESS_GOAL, "text": f"<= {STEADINESS_GOAL:.1f}"}
    out["goal_met"] = out.get("tfcore") <= STEADINESS_GOAL if out.get("tfcore") is not None else None
    return out


def summary(row):
    """{"met": [...], "missed": [...], "unknown": [...]}: the row's goals by name ("quiet", ...,
    "steadiness") and whether each is met."""
    verdicts = [(name, entry["goal_met"]) for name, entry in row["conditions"].items() if entry["goal"]]
    if row.get("steadiness"):
        verdicts.append(("steadiness", row["steadiness"]["goal_met"]))
    return {"met": [name for name, met in verdicts if met is True],
            "missed": [name for name, met in verdicts if met is False],
            "unknown": [name for name, met in verdicts if met is None]}


def evaluate(workload, by_condition, title=None):
    """The row of `workload`: {condition: its cells} evaluated condition by condition, the steadiness
    for a timed workload, and the summary of its goals."""
    conditions = {name: evaluate_condition(workload, name, results) for name, results in by_condition.items()}
    row = {"name": workload.name, "title": title or workload.title, "unit": workload.unit,
           "kind": workload.kind, "conditions": conditions,
           "steadiness": steadiness(conditions) if workload.kind == "timed" else None}
    row["goals"] = summary(row)
    return row
