"""tfcore against an earlier tfcore: the timed workloads in two source trees, interleaved in one run.

    git worktree add /tmp/before <commit>
    .venv/bin/python -m benchmarks.compare_trees /tmp/before                 # the default workloads
    .venv/bin/python -m benchmarks.compare_trees /tmp/before lenet_train:21  # name[:rounds]

One `benchmarks.worker` process per tree (this one and OTHER), each importing tfcore from its own
tree; the samples are taken in turns, as `benchmarks.run` takes them for engines, so both trees see
the same machine. Prints the medians, minima and after/before ratios (this tree over OTHER).
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

from benchmarks import timing
from benchmarks.run import BY_NAME, PAUSE_SECONDS, SCALE, child_environment

THIS_TREE = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = ("mlp_step:15", "lenet_train:9", "lenet_infer:15", "tiny_run:15", "style_256:5")


class TreeWorker:
    """A tfcore worker whose `tfcore` (and benchmarks) come from `tree`."""

    def __init__(self, tree):
        env = child_environment()
        env["PYTHONPATH"] = str(tree)
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", "--engine", "tfcore"],
                                     cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, encoding="utf-8")
        self._check(self._read())

    def request(self, cmd, **arguments):
        self.proc.stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
        self.proc.stdin.flush()
        return self._check(self._read())

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            return {"error": "the worker exited: " + " | ".join(self.log.read().strip().splitlines()[-3:])}
        return json.loads(line)

    @staticmethod
    def _check(reply):
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"cmd": "exit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.log.close()


def compare(workers, name, rounds):
    """{tree label: (median, min)} of workload `name` in its unit, `rounds` interleaved samples."""
    for worker in workers.values():
        worker.request("setup", workload=name)
        worker.request("calibrate", warmup=2, sample_seconds=0.25)
    stats = timing.interleave({label: (lambda w=w: w.request("sample")["seconds"])
                               for label, w in workers.items()}, rounds, pause=PAUSE_SECONDS)
    for worker in workers.values():
        worker.request("close")
    scale = SCALE[BY_NAME[name].unit]
    return {label: (s["median"] * scale, s["min"] * scale) for label, s in stats.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=pathlib.Path, help="the earlier source tree (e.g. a git worktree)")
    parser.add_argument("workloads", nargs="*", default=DEFAULT, help="name[:rounds] of timed workloads")
    args = parser.parse_args(argv)
    workers = {"before": TreeWorker(args.other.resolve()), "after": TreeWorker(THIS_TREE)}
    try:
        print(f"{'workload':12} {'unit':4} {'before median/min':>20} {'after median/min':>20} "
              f"{'after/before median':>20} {'min':>6}")
        for item in args.workloads:
            name, _, rounds = item.partition(":")
            row = compare(workers, name, int(rounds or 9))
            (bm, bn), (am, an) = row["before"], row["after"]
            print(f"{name:12} {BY_NAME[name].unit:4} {bm:10.4g} / {bn:<8.4g} {am:10.4g} / {an:<8.4g} "
                  f"{am / bm:20.3f} {an / bn:6.3f}", flush=True)
    finally:
        for worker in workers.values():
            worker.stop()


if __name__ == "__main__":
    main()
