"""Measurements that need a fresh process, one engine per process: `python -m benchmarks.child KIND
--engine NAME [...]`. The result is printed as one line ``BENCH_RESULT {json}`` on stdout.

- ``import``: seconds to import the engine, and resident memory before and after;
- ``lenet-memory``: peak resident memory of N LeNet-5 training steps above the resident memory
  before the graph is built (after the engine's import and the batch's creation);
- ``style-memory``: peak resident memory of the whole process through N neural-style iterations;
- ``lesson05``: wall time of lesson 05's training program (`benchmarks.lesson05.train`).

Only the standard library is imported before the measurement starts, so that ``import`` times the
engine's import alone (NumPy included, as the engine imports it).
"""

import argparse
import json
import sys
import time

from benchmarks import engines, memory

RESULT_PREFIX = "BENCH_RESULT "


def run_for_result(command, env, cwd, timeout=None):
    """Run a measuring process and return the dict it printed on its ``BENCH_RESULT`` line, or
    ``{"error": ...}`` saying why there is none (a time-out, or the exit status and the last lines)."""
    import subprocess
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: " + " | ".join(tail)}


def _import_engine(engine):
    return engines.load(engine)


def measure_import(engine):
    before = memory.rss_mib()
    start = time.perf_counter()
    if engine == "tensorflow":
        engines.set_tf_environment()
        import tensorflow

        tensorflow.compat.v1  # noqa: B018  (the attribute the course uses, loaded lazily)
    elif engine == "torch":
        import torch  # noqa: F401
    elif engine == "tfcore":
        import tfcore  # noqa: F401
    else:
        raise ValueError(f"unknown engine {engine!r}")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_before_mib": before, "rss_after_mib": memory.rss_mib()}


def _tf1_lenet_steps(tf, steps):
    from benchmarks import models

    pixels, labels = models.mnist_like_batch(images=True)
    baseline = memory.rss_mib()
    meter = memory.PeakMeter().start()
    graph = tf.Graph()
    with graph.as_default():
        net = models.build_lenet(tf)
    with tf.Session(graph=graph, config=engines.session_config(tf)) as sess:
        sess.run(net.init)
        feed = {net.x: pixels, net.y: labels}
        for _ in range(steps):
            sess.run([net.train_op, net.loss], feed)
        peak = meter.stop()
    return baseline, peak, meter.method


def _torch_lenet_steps(steps):
    from benchmarks import models, torch_models

    models.mnist_like_batch(images=True)  # the same allocations before the baseline as the TF1 engines
    baseline = memory.rss_mib()
    meter = memory.PeakMeter().start()
    step = torch_models.lenet_train_step()
    for _ in range(steps):
        step()
    return baseline, meter.stop(), meter.method


def measure_lenet_memory(engine, steps):
    module = _import_engine(engine)
    if engine == "torch":
        baseline, peak, method = _torch_lenet_steps(steps)
    else:
        baseline, peak, method = _tf1_lenet_steps(module, steps)
    return {"baseline_mib": baseline, "peak_mib": peak, "delta_mib": peak - baseline, "method": method,
            "steps": steps}


def measure_style_memory(engine, size, iterations):
    module = _import_engine(engine)
    start = time.perf_counter()
    if engine == "torch":
        from benchmarks import torch_models

        step = torch_models.style_step(size)
        for _ in range(iterations):
            step()
    else:
        from benchmarks import models

        tf = module
        graph = tf.Graph()
        with graph.as_default():
            net = models.build_style(tf, size)
        with tf.Session(graph=graph, config=engines.session_config(tf)) as sess:
            sess.run(net.init)
            net.set_targets(sess)
            for _ in range(iterations):
                sess.run([net.train_op, net.loss], net.feed)
    # The peak of the whole process (import, graph, targets and iterations): what has to fit in RAM.
    peak = memory.ru_maxrss_mib()
    return {"peak_mib": peak, "size": size, "iterations": iterations, "method": "ru_maxrss",
            "seconds": time.perf_counter() - start}


def measure_lesson05(engine, steps, model_dir):
    if engine == "torch":
        raise ValueError("lesson 05 is TF1 code; PyTorch has no row here")
    tf = _import_engine(engine)
    import course.data
    from benchmarks import lesson05

    mnist = course.data.mnist(one_hot=True)
    start = time.perf_counter()
    history = lesson05.train(tf, mnist, model_dir, steps=steps, log=lambda line: print(line, flush=True),
                             config=engines.session_config(tf))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": steps, "final_loss": float(history["loss"][-1]),
            "last_val_accuracy": float(history["val_accuracy"][-1]) if history["val_accuracy"] else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["import", "lenet-memory", "style-memory", "lesson05"])
    parser.add_argument("--engine", required=True)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--model-dir", default=None)
    args = parser.parse_args(argv)
    if args.kind == "import":
        result = measure_import(args.engine)
    elif args.kind == "lenet-memory":
        result = measure_lenet_memory(args.engine, args.steps)
    elif args.kind == "style-memory":
        result = measure_style_memory(args.engine, args.size, args.steps)
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bench-lesson05-") as tmp:
            result = measure_lesson05(args.engine, args.steps, args.model_dir or tmp)
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
