# Set-up, tests and the demo for acai_tf. Every target creates what it needs, so on a fresh
# clone `make test` builds .venv, installs Bazel if missing, prepares MNIST offline, runs
# pytest and then the Bazel tests; later runs reuse all of it.
#
#   make demo        the main job (first run does all set-up)
#   make test        set-up + the whole suite: pytest, then Bazel
#   make venv        .venv with `pip install -e '.[test]'`, redone only when setup.py changes
#   make data        MNIST prepared for tensorflow-datasets in $(TFDS_DIR)
#   make pytest      pytest only;  make bazel-test  Bazel only (skips tests tagged "slow")
#   make clean       remove Bazel outputs and caches (keeps .venv and the prepared data)

SHELL := /bin/bash
.DEFAULT_GOAL := test
# Steps share 2 cores and each wants them all; run them one after another even under -j.
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Newer than setup.py exactly when the editable install reflects it.
INSTALL_STAMP := $(VENV)/.installed-setup-py

# Prepared tfds datasets live in the clone (gitignored); the raw MNIST archives beside it.
TFDS_DIR ?= $(CURDIR)/.cache/tfds
MNIST_DIR ?= $(or $(ACAI_MNIST_DIR),$(abspath $(CURDIR)/../shared/data/mnist))
# Both pytest and Bazel (through --test_env in .bazelrc) read these.
export ACAI_TFDS_DIR := $(TFDS_DIR)
export ACAI_MNIST_DIR := $(MNIST_DIR)
MNIST_STAMP := $(TFDS_DIR)/.mnist32-prepared

PYTEST_ARGS ?= -n 2
BAZEL ?= bazel
BAZEL_TEST_ARGS ?= --test_tag_filters=-slow
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test venv data pytest bazel-install bazel-test clean

demo: venv
	$(PY) -m flags.demo $(DEMO_ARGS)

test: pytest bazel-test

venv: $(INSTALL_STAMP) $(VENV)/bazelrc

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): setup.py | $(PY)
	# A venv made before setup.py named the `tensorflow` wheel holds tensorflow-cpu, which
	# would share files with it: remove it first (nothing to do in a new venv).
	$(PY) -m pip uninstall --quiet --yes tensorflow-cpu 2>/dev/null || true
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Imported by .bazelrc: Bazel needs the interpreter's absolute path, which only the clone knows.
$(VENV)/bazelrc: | $(PY)
	echo "build --python_path=$(abspath $(PY))" > $@

data: $(MNIST_STAMP)

# Order-only on the venv: reinstalling packages does not invalidate prepared data.
$(MNIST_STAMP): | $(INSTALL_STAMP)
	$(PY) -m flags.prepare_data --dataset=mnist32 --data_dir=$(TFDS_DIR) \
		--manual_dir=$(MNIST_DIR)
	touch $@

pytest: venv data
	$(PY) -m pytest $(PYTEST_ARGS)

bazel-install:
	@command -v $(BAZEL) >/dev/null 2>&1 || { \
		echo "Installing Bazel (Debian's bazel-bootstrap)..."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bazel-bootstrap \
			>/dev/null; }

# The server is shut down whatever the outcome, so no Bazel process outlives the run.
bazel-test: venv data bazel-install
	@start=$$(date +%s); status=0; \
	$(BAZEL) test //... $(BAZEL_TEST_ARGS) || status=$$?; \
	$(BAZEL) shutdown; \
	echo "Bazel tests took $$(( $$(date +%s) - start )) s"; \
	exit $$status

clean:
	-command -v $(BAZEL) >/dev/null 2>&1 && $(BAZEL) clean --expunge
	rm -rf .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
