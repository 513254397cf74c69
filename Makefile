# Two commands set everything up: `make run` and `make test` (each creates .venv and installs if needed).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test docs preview lab bench export readme

$(STAMP): settings.ini setup.py pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0 -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)                      ## create .venv and install exactly as the README says

run: $(STAMP)                          ## the main job: the quick simulation study
	$(BIN)/adaptive-mtl simulate --preset quick

test: $(STAMP)                         ## the test command of the README
	$(BIN)/python -m pytest tests

docs: $(STAMP)                         ## the docs site into _docs/: nbdev_docs with Quarto, else the offline build
	$(BIN)/python tools/docs.py

preview: $(STAMP)                      ## build the docs and serve them on http://127.0.0.1:4200
	$(BIN)/python tools/docs.py --preview

lab: $(STAMP)                          ## JupyterLab on the notebooks
	$(BIN)/jupyter lab nbs

bench: $(STAMP)                        ## timing ratios (not part of the test command)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f; done

export: $(STAMP)                       ## notebooks -> adaptive_mtl/, then clean the notebooks
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

readme: $(STAMP)                       ## README.md from nbs/index.ipynb (nbdev_readme needs Quarto)
	$(BIN)/python tests/test_readme.py --write
