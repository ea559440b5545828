"""Speed and memory of tfcore against TensorFlow 1 graph mode (and PyTorch where installed).

`make bench` runs `python -m benchmarks.run`; see benchmarks/README.md. Modules:

- `run`: the command line, the workload list, the one-off runners, the JSON file;
- `timed`: the timed workloads in the three conditions, on sets of worker processes;
- `conditions`: the conditions: the competing process, the one-CPU quota cgroups;
- `workers`: the worker and child processes and their environment (no OpenBLAS kernel overrides);
- `goals`: the goals per condition, the ratios and the steadiness;
- `report`: the printed table, the header lines and the README table;
- `worker`: one engine's process for the timed workloads, driven by `run` over a pipe;
- `workloads`: how each timed workload is built and stepped on each engine;
- `timing`: interleaved timing (A B A B after a warm-up, median of repeats) and the machine description;
- `engines`: loads tfcore, TensorFlow (TF1 mode, oneDNN on) and PyTorch, each only when asked;
- `models`: the benchmark models as plain TF1 code against a parameter `tf` (MLP, LeNet-5, VGG19 style);
- `torch_models`: their PyTorch counterparts;
- `lesson05`: a copy of lesson 05's MNIST training program, for `--full-lesson`;
- `child`: what runs in a fresh subprocess (import time and memory, peak memory, the lesson);
- `memory`: resident and peak memory of the current process (standard library only).

Importing this package loads nothing heavy, so `child` can time an engine's import alone.
"""
