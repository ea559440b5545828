# The course's two commands:
#   make course   install the course into .venv and start JupyterLab (headless) on the first lesson
#   make test     install the dev tools into .venv (Chromium for the browser tests, bubblewrap for the
#                 grading sandbox), then ruff and pytest
#   make hub      (as root) set up and start JupyterHub for a class on this server (deploy/hub/README.md)
# Also: make apps (the Voila apps on http://127.0.0.1:8866), make lint (ruff only),
# make clean (build and test caches; keeps .venv).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
APPS_PORT ?= 8866
# pytest-xdist workers. Default 0 (one process): on the 2-core CI machine `-n auto` measured slower
# (each worker imports TensorFlow, and the two workers slow each other down). PYTEST_WORKERS=auto to try.
PYTEST_WORKERS ?= 0
PYTEST_ARGS ?=
SHARED_DATASETS := $(abspath $(CURDIR)/../shared/datasets)
FIRST_PAGE := lessons/01_tensors_graphs_sessions.ipynb
# make course, apps and hub: TFCORE_DATASETS defaults to ../shared/datasets where that folder exists.
USE_SHARED_DATASETS = if [ -z "$${TFCORE_DATASETS:-}" ] && [ -d "$(SHARED_DATASETS)" ]; then \
    export TFCORE_DATASETS="$(SHARED_DATASETS)"; echo "TFCORE_DATASETS=$$TFCORE_DATASETS"; fi

.PHONY: help course apps hub test lint clean

help:
	@echo "make course   install the course into $(VENV) and start JupyterLab on http://127.0.0.1:$(PORT) (PORT=... to change)"
	@echo "make apps     serve the Voila apps (apps/) on http://127.0.0.1:$(APPS_PORT) (APPS_PORT=... to change)"
	@echo "make test     install the dev extras into $(VENV) and Chromium, then ruff check and pytest"
	@echo "make bench    time tfcore against TensorFlow (and PyTorch if installed); table in benchmarks/README.md"
	@echo "make gpu-check  on a machine with an NVIDIA GPU: CuPy, the GPU tests and the GPU benchmark (benchmarks/gpu_check.sh)"
	@echo "make hub      (root) JupyterHub for a class on http://127.0.0.1:$(HUB_PORT) (deploy/hub/README.md)"
	@echo "make lint     ruff check only"
	@echo "make clean    remove build and test caches (keeps $(VENV))"

# Creating the venv: one place, scripts/ensure-venv.sh.
$(PY):
	@bash scripts/ensure-venv.sh $(VENV)

# Installs are redone whenever pyproject.toml is newer than their stamp (a changed pin is picked up).
$(VENV)/.installed-course: pyproject.toml | $(PY)
	@echo "Installing the course into $(VENV) (pip install -e \".[course]\"; a few minutes the first time)"
	@$(PY) -m pip install -qq -e ".[course]"
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	@echo "Installing the dev tools into $(VENV) (pip install -e \".[dev]\"; a few minutes the first time)"
	@$(PY) -m pip install -qq -e ".[dev]"
	@touch $@ $(VENV)/.installed-course

course: $(VENV)/.installed-course
	@$(USE_SHARED_DATASETS); \
	allow_root=""; if [ "$$(id -u)" = 0 ]; then allow_root="--allow-root"; fi; \
	echo "Course: http://127.0.0.1:$(PORT)/lab/tree/$(FIRST_PAGE)"; \
	echo "(open the link with ?token=... that JupyterLab prints below; press Ctrl-C twice to stop the server)"; \
	exec $(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) \
	    --ServerApp.port_retries=0 --ServerApp.root_dir="$(CURDIR)" \
	    --LabApp.default_url=/lab/tree/$(FIRST_PAGE) $$allow_root

# The Voila apps: the tree of apps/ at the printed URL, each app at /voila/render/<name>.ipynb.
apps: $(VENV)/.installed-course
	@$(USE_SHARED_DATASETS); \
	echo "Apps: http://127.0.0.1:$(APPS_PORT)/ (draw_a_digit, convolution_explorer, style_a_photo; Ctrl-C to stop)"; \
	exec $(VENV)/bin/voila --no-browser --Voila.ip=127.0.0.1 --port=$(APPS_PORT) \
	    --Voila.port_retries=0 apps/

# make hub: deploy/hub/setup.sh installs the hub's software and class folders (idempotent), then
# JupyterHub runs in the foreground. Settings (HUB_PORT, HUB_IP, HUB_STATE, ROSTER, INSTRUCTORS, ...):
# deploy/hub/README.md. The datasets follow TFCORE_DATASETS as for `make course`.
HUB_PORT ?= 8000
hub:
	@bash deploy/hub/setup.sh
	@$(USE_SHARED_DATASETS); \
	prefix="$${HUB_PREFIX:-/opt/tfcore-hub}"; \
	echo "Hub: http://$${HUB_IP:-127.0.0.1}:$(HUB_PORT)/ (sign up at /hub/signup; Ctrl-C to stop)"; \
	cd "$${HUB_STATE:-/srv/tfcore-hub}/state" && \
	HUB_PORT=$(HUB_PORT) exec "$$prefix/venv/bin/jupyterhub" -f "$(CURDIR)/deploy/hub/jupyterhub_config.py"

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	@bash scripts/install-chromium.sh
	@bash scripts/install-bubblewrap.sh
	@export TFCORE_DATASETS="$${TFCORE_DATASETS:-$(SHARED_DATASETS)}"; \
	echo "TFCORE_DATASETS=$$TFCORE_DATASETS"; \
	workers=""; if [ "$(PYTEST_WORKERS)" != "0" ]; then workers="-n $(PYTEST_WORKERS)"; fi; \
	rc=0; $(VENV)/bin/pytest $$workers $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "make test: FAILED: pytest collected no tests (exit 5)" >&2; exit 5; fi; \
	exit "$$rc"

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
	    | xargs -0 rm -rf

# make bench: tfcore against TensorFlow (and PyTorch where installed), benchmarks/README.md.
# BENCH_ARGS="--quick" (or --only NAME, --full-lesson, --big, ...) passes options to benchmarks/run.py.
BENCH_ARGS ?=
.PHONY: bench
bench: $(VENV)/.installed-dev
	@export TFCORE_DATASETS="$${TFCORE_DATASETS:-$(SHARED_DATASETS)}"; \
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# make gpu-check: on a machine with an NVIDIA GPU, install CuPy (the gpu extra) where needed, run the
# GPU tests and the GPU benchmark section in one go (about 8 minutes); results in benchmarks/results/.
.PHONY: gpu-check
gpu-check:
	bash benchmarks/gpu_check.sh
