"""The GPU section: the same workloads on tfcore-GPU, TensorFlow on the GPU and tfcore on the CPU.

    python -m benchmarks.gpu                 # LeNet-5 training step and 512x512 VGG19 style iteration
    python -m benchmarks.gpu --quick         # fewer and shorter samples
    python -m benchmarks.run --gpu           # the CPU table, then this section

Goals (issue 9, on one H100): tfcore-GPU / TensorFlow-GPU <= 1.5 for both workloads, and tfcore-GPU
at least 10x faster than tfcore on the CPU of the same machine. Where tfcore cannot use a GPU (no
CuPy, no GPU) the section prints that it was skipped and why; where TensorFlow sees no GPU (e.g.
`tensorflow-cpu` installed) its column says so and the first goal cannot be judged.

Each (engine, device, workload) runs in its own process, so that TensorFlow and CuPy never share
the GPU's memory and a crash or a time-out costs one cell. A step is
``sess.run([train_op, loss], feed)``: fetching the loss copies it to the host, which waits for the
GPU, so the time per step includes all the GPU work. Models and inputs are those of the CPU
benchmarks (`benchmarks/models.py`), built under ``tf.device("/gpu:0")`` or ``"/cpu:0"``.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.child import RESULT_PREFIX, run_for_result

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "gpu.json"

# (key, engine, device, label)
CONFIGS = (("tfcore_gpu", "tfcore", "gpu", "tfcore GPU"),
           ("tensorflow_gpu", "tensorflow", "gpu", "TensorFlow GPU"),
           ("tfcore_cpu", "tfcore", "cpu", "tfcore CPU"))
# name -> (title, seconds a child may take per configuration: normally, with --quick)
WORKLOADS = {
    "lenet_train": ("LeNet-5, one training step (batch 100, Adam, dropout, L2)", (240, 90)),
    "style_512": ("neural style, one iteration (VGG19 to conv5_1, 512x512, Adam)", (420, 180)),
}
GOAL_VS_TF = 1.5  # tfcore-GPU / TF-GPU at most
GOAL_VS_CPU = 10.0  # tfcore-CPU / tfcore-GPU at least


def tfcore_gpu_reason():
    """None when tfcore can run ops on /device:GPU:0 here, else why not."""
    from tfcore import devices
    return devices.gpu_unavailable_reason()


# --- one measurement (child process) -------------------------------------------------------------


def _engine(name, device):
    if name == "tfcore":
        import tfcore
        return tfcore, None
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # take GPU memory as needed, not all
    from benchmarks import engines
    if not engines.available("tensorflow"):
        return None, "TensorFlow is not installed"
    tf = engines.load("tensorflow")
    import tensorflow
    if device == "gpu" and not tensorflow.config.list_physical_devices("GPU"):
        build = tensorflow.sysconfig.get_build_info()
        return None, (f"TensorFlow {tensorflow.__version__} sees no GPU "
                      f"(built with CUDA: {build.get('is_cuda_build', False)}; tensorflow-cpu has none)")
    return tf, None


def _build(tf, workload):
    from benchmarks import models
    if workload == "lenet_train":
        net = models.build_lenet(tf)
        pixels, labels = models.mnist_like_batch(images=True)
        return net, {net.x: pixels, net.y: labels}
    return models.build_style(tf, 512), None


def measure(engine, device, workload, repeats, sample_seconds, deadline_s):
    """Build `workload` on `engine` under tf.device(device) and time steps: {"value": ms per step, ...}."""
    started = time.perf_counter()
    tf, why = _engine(engine, device)
    if tf is None:
        return {"na": why}
    graph = tf.Graph()
    with graph.as_default(), tf.device(f"/{device}:0"):
        net, feed = _build(tf, workload)
    config = tf.ConfigProto(allow_soft_placement=True)
    if engine == "tensorflow":
        config.gpu_options.allow_growth = True
    sess = tf.Session(graph=graph, config=config)
    try:
        sess.run(net.init)
        if feed is None:
            net.set_targets(sess)
            feed = net.feed
        fetches = [net.train_op, net.loss]
        build_s = time.perf_counter() - started
        first = time.perf_counter()
        sess.run(fetches, feed)  # the first step compiles the plan (and, on a GPU, the kernels)
        first_s = time.perf_counter() - first
        warm = time.perf_counter()
        sess.run(fetches, feed)
        once = time.perf_counter() - warm
        calls = max(1, int(sample_seconds / max(once, 1e-6)))
        samples = []
        for _ in range(repeats):
            if samples and time.perf_counter() - started + once * calls > deadline_s:
                break  # keep inside the child's time: fewer samples rather than none
            t0 = time.perf_counter()
            for _ in range(calls):
                loss = sess.run(fetches, feed)[1]
            samples.append((time.perf_counter() - t0) / calls)
        ms = [s * 1e3 for s in samples]
        return {"value": statistics.median(ms), "min": min(ms), "samples": ms, "calls_per_sample": calls,
                "first_step_ms": first_s * 1e3, "setup_s": build_s, "final_loss": float(loss)}
    finally:
        sess.close()


def _child_main(args):
    try:
        result = measure(args.engine, args.device, args.workload, args.repeats, args.sample_seconds,
                         args.deadline)
    except Exception as e:  # reported in the table, not a traceback in the parent's output
        result = {"error": f"{type(e).__name__}: {e}"[:500]}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# --- the section ---------------------------------------------------------------------------------


def _run_child(engine, device, workload, quick):
    timeout = WORKLOADS[workload][1][1 if quick else 0]
    command = [sys.executable, "-m", "benchmarks.gpu", "--child", "--engine", engine, "--device", device,
               "--workload", workload, "--repeats", "3" if quick else "5",
               "--sample-seconds", "0.3" if quick else "1.0", "--deadline", str(timeout * 0.8)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return run_for_result(command, env, ROOT, timeout)


def evaluate(cells):
    """Ratios and goals for one workload's {config key: cell}."""
    gpu = cells.get("tfcore_gpu", {}).get("value")
    tf_gpu = cells.get("tensorflow_gpu", {}).get("value")
    cpu = cells.get("tfcore_cpu", {}).get("value")
    vs_tf = gpu / tf_gpu if gpu and tf_gpu else None
    speedup = cpu / gpu if gpu and cpu else None
    return {"tfcore_gpu_over_tf_gpu": vs_tf, "goal_vs_tf_met": None if vs_tf is None else vs_tf <= GOAL_VS_TF,
            "cpu_over_gpu": speedup, "goal_vs_cpu_met": None if speedup is None else speedup >= GOAL_VS_CPU}


def run_section(quick=False, workloads=None, log=None):
    """Run the GPU section; returns {"skipped": why} or {"device": ..., "workloads": [...]}."""
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    reason = tfcore_gpu_reason()
    if reason is not None:
        return {"skipped": reason}
    from tfcore import devices
    section = {"device": devices.lookup("/device:GPU:0").describe(), "workloads": []}
    for name in workloads or list(WORKLOADS):
        cells = {}
        for key, engine, device, label in CONFIGS:
            log(f"gpu section: {name} on {label} ...")
            t0 = time.time()
            cells[key] = _run_child(engine, device, name, quick)
            log(f"gpu section: {name} on {label}: {_fmt(cells[key])} ms ({time.time() - t0:.0f} s)")
        section["workloads"].append({"name": name, "title": WORKLOADS[name][0], "unit": "ms",
                                     "results": cells, **evaluate(cells)})
    return section


def _fmt(cell):
    if cell is None or "value" not in cell:
        return "error" if cell and "error" in cell else "n/a"
    v = cell["value"]
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"


def _met(flag):
    return {True: "met", False: "not met", None: "-"}[flag]


def section_text(section):
    """The section as printed: a skip line, or the device and a table with the ratios and goals."""
    if "skipped" in section:
        return f"GPU section skipped: {section['skipped']}"
    header = ["workload", "unit", *[label for _, _, _, label in CONFIGS], "GPU/TF-GPU", "goal", "met",
              "CPU/GPU", "goal", "met"]
    body = []
    for row in section["workloads"]:
        r = row["results"]
        ratio, speedup = row["tfcore_gpu_over_tf_gpu"], row["cpu_over_gpu"]
        body.append([row["title"], row["unit"], *[_fmt(r.get(key)) for key, _, _, _ in CONFIGS],
                     f"{ratio:.2f}" if ratio is not None else "n/a", f"<= {GOAL_VS_TF}",
                     _met(row["goal_vs_tf_met"]), f"{speedup:.1f}" if speedup is not None else "n/a",
                     f">= {GOAL_VS_CPU:.0f}", _met(row["goal_vs_cpu_met"])])
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    lines = [f"GPU section on {section['device']}:",
             "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "-" * (sum(widths) + 2 * (len(widths) - 1))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in body]
    for row in section["workloads"]:
        for key, _, _, label in CONFIGS:
            cell = row["results"].get(key, {})
            if "error" in cell or "na" in cell:
                lines.append(f"{row['name']} on {label}: {cell.get('error') or cell.get('na')}")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter samples")
    parser.add_argument("--only", metavar="NAME[,NAME]", help=f"only these workloads: {', '.join(WORKLOADS)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON file (default %(default)s)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=("tfcore", "tensorflow"), help=argparse.SUPPRESS)
    parser.add_argument("--device", choices=("gpu", "cpu"), help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=tuple(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--sample-seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=300.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only:
        args.only = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in args.only if n not in WORKLOADS]
        if unknown:
            parser.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return _child_main(args)
    section = run_section(quick=args.quick, workloads=args.only)
    print(section_text(section))
    if "skipped" not in section:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(section, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
