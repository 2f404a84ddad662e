# enet4y2 — build, test, demo. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Flags passed through to upstream darknet's Makefile (empty = automatic default).
GPU ?=
CUDNN ?=
CUDNN_HALF ?=
OPENCV ?=
OPENMP ?=
AVX ?=
ARCH ?=
DARKNET_SRC ?=
DEST ?=
DARKNET_ALLOW_OTHER ?=

.PHONY: help venv darknet test lint demo

help:
	@echo "make venv      create .venv with enet4y2 and its test tools"
	@echo "make darknet   build pinned upstream darknet + the cffi binding [GPU=1 CUDNN=1 CUDNN_HALF=1 OPENCV=1 OPENMP=1 AVX=1 ARCH=... DARKNET_SRC=dir]"
	@echo "make test      run the test suite (darknet-marked tests skip without a build)"
	@echo "make demo      build everything and run the end-to-end demo on generated data"
	@echo "make lint      ruff"

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# setuptools notes every editable install ("Editable installation."): information only
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check enet4y2 tests benchmarks scripts

darknet: $(STAMP)
	$(VENV)/bin/enet4y2 build GPU=$(GPU) CUDNN=$(CUDNN) CUDNN_HALF=$(CUDNN_HALF) OPENCV=$(OPENCV) \
		OPENMP=$(OPENMP) AVX=$(AVX) ARCH='$(ARCH)' DARKNET_SRC='$(DARKNET_SRC)' DEST='$(DEST)' \
		DARKNET_ALLOW_OTHER='$(DARKNET_ALLOW_OTHER)'

demo: darknet
	$(VENV)/bin/enet4y2 demo --dir demo
