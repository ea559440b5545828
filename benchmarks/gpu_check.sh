#!/usr/bin/env bash
# The GPU check of issue 9 in one go, on a machine with an NVIDIA GPU (about 8 minutes):
#   1. find a Python that imports CuPy, or, where nvidia-smi shows a GPU, install the `gpu` extra
#      (cupy-cuda12x) into .venv;
#   2. say which devices tfcore sees;
#   3. run the GPU tests: every op's value and gradient test, the seed programs and the device tests
#      on /device:GPU:0 (`pytest -m gpu tests/tfcore`);
#   4. run the GPU benchmark section (benchmarks/gpu.py): LeNet-5 training step and 512x512 VGG19
#      style iteration on tfcore-GPU, TensorFlow-GPU (where it runs) and tfcore-CPU.
#
#   bash benchmarks/gpu_check.sh [RESULTS_DIR]     (default benchmarks/results; logs and gpu.json there)
#
# Environment: PYTHON=... picks the interpreter; GPU_WHEELS=DIR installs CuPy from wheels in DIR
# (machines without a package index); TFCORE_DATASETS=DIR points at the MNIST files for the seed
# programs (default ../shared/datasets, else ./.gpu_data; without them those tests skip, saying so).
# The steps go on when one fails; the exit status is that of the tests. Each step has a time limit
# (tests 280 s, benchmark 250 s) so that the whole check fits in one 10-minute command; the benchmark
# logs each measurement as it is made, so a cut-off run still leaves the figures taken so far.
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${1:-benchmarks/results}
mkdir -p "$RESULTS"
export PYTHONUNBUFFERED=1 COURSE_FAST=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${TFCORE_DATASETS:-}" ]; then
    for dir in ../shared/datasets .gpu_data; do
        if [ -d "$dir/mnist" ]; then export TFCORE_DATASETS="$PWD/$dir"; break; fi
    done
fi

has_cupy() { "$1" -c "import cupy" >/dev/null 2>&1; }

echo "== 1. CuPy"
PY=${PYTHON:-}
if [ -z "$PY" ]; then
    for candidate in .venv/bin/python python3; do
        if command -v "$candidate" >/dev/null 2>&1 && has_cupy "$candidate"; then PY=$candidate; break; fi
    done
fi
if [ -z "$PY" ]; then
    PY=.venv/bin/python
    [ -x "$PY" ] || PY=python3
    if ! nvidia-smi -L >/dev/null 2>&1; then
        echo "no NVIDIA GPU here (nvidia-smi finds none): CuPy is not installed"
    elif [ -n "${GPU_WHEELS:-}" ]; then
        echo "installing CuPy from the wheels in $GPU_WHEELS"
        "$PY" -m pip install -q --no-index --find-links "$GPU_WHEELS" cupy-cuda12x
    else
        echo "installing the gpu extra (pip install -e '.[gpu]')"
        "$PY" -m pip install -q -e ".[gpu]"
    fi
fi
"$PY" -c "import cupy, numpy; print('CuPy', cupy.__version__, 'NumPy', numpy.__version__, 'Python', __import__('sys').version.split()[0])" \
    || echo "CuPy does not import with $PY: the GPU tests will skip, and the GPU section will say why"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L

echo "== 2. devices"
"$PY" - <<'EOF'
from tfcore import devices
print("devices:", devices.list_devices())
reason = devices.gpu_unavailable_reason()
print("GPU:0:", devices.lookup("/device:GPU:0").describe() if reason is None else f"unavailable: {reason}")
EOF

echo "== 3. GPU tests (pytest -m gpu tests/tfcore)"
timeout 280 "$PY" -m pytest -q -m gpu tests/tfcore -p no:cacheprovider -rs --durations=5 -o timeout=120 \
    2>&1 | tee "$RESULTS/gpu_tests.log"
tests_status=${PIPESTATUS[0]}
echo "GPU tests: exit status $tests_status"

echo "== 4. GPU benchmark section"
timeout 250 "$PY" -m benchmarks.gpu --quick --out "$RESULTS/gpu.json" 2>&1 | tee "$RESULTS/gpu_bench.log"
echo "GPU benchmark: exit status ${PIPESTATUS[0]}"
exit "$tests_status"
