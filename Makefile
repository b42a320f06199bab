# Set-up and the everyday commands. `make demo` and `make test` install what they need first.
PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install demo test test-slow lint benchmarks

# torch is installed first, pinned to the release whose CPU wheel this workplace keeps on disk; a
# machine that already has torch keeps its own, and elsewhere pip takes the normal build.
install: .stamp-install
.stamp-install: setup.cfg pyproject.toml
	$(PYTHON) -c "import torch" 2>/dev/null || $(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[all,tests]"
	touch $@

demo: install
	OMP_NUM_THREADS=1 WANDB_MODE=$${WANDB_MODE:-offline} $(PYTHON) -m sb3_marl train --env mpe2.simple_spread_v3 --algo madqn --seed 0 --wandb-project sb3-marl --output runs/demo

test: install
	$(PYTHON) -m pytest -q

test-slow: install
	$(PYTHON) -m pytest -q -m slow

lint: install
	ruff check
	mypy

benchmarks: install
	$(PYTHON) benchmarks/env_throughput.py --quick
	$(PYTHON) benchmarks/per_buffer.py --quick
	$(PYTHON) benchmarks/madqn_speed.py --quick
