# bpo-kpo: every target that needs the environment creates .venv and installs the package itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLI := $(BIN)/bpo-kpo

# Each stage depends on exactly what it reads: its code, its parameters and its data.
# Code and parameters: .make/deps.mk sets PREPARE_CODE, PREPARE_PARAMS, TRAIN_CODE... to the modules each stage's
# command reaches through the code (found from imports and names, never typed by hand) and the files of the
# parameter groups it uses (params/*.toml). tools/stage_deps.py rewrites it at every run, and only when it
# changes, so make rereads it only then. pipeline/cli.py holds every command, so each stage depends on it.
DEPS := .make/deps.mk
# Data: a listing of the stage's data files (name, size, modification time), rewritten only when it changes:
# the stage reruns when a file is added, removed or edited, whatever characters its name holds. A list of file
# names as prerequisites would split names at spaces and could not see a removal. Notes (*.md) are not data.
RAW_LISTING := data/processed/.raw-files
PREPARE_DATA := data/raw/catalogue data/raw/written data/raw/labelled data/raw/field data/raw/challenge
# train masks the lexicon's words; report audits the model against it and runs the invariance suite.
LEXICON := data/raw/catalogue/function_terms.json
REPORT_LISTING := .make/report-data
REPORT_DATA := data/raw/invariance
# What the install reads from pyproject.toml (dependencies, extras, console script), without the tool settings.
INSTALL_INPUTS := .make/install-inputs

SUMMARY := data/processed/summary.json
MODEL := models/model.joblib
# Every model file has its own metadata beside it, named after the whole file name.
MODEL_META := $(MODEL).json
# train writes the scope model beside it (pipeline/scope.py), with its metadata.
SCOPE_MODEL := models/model.scope.joblib
SCOPE_META := $(SCOPE_MODEL).json
# The model whose figures on the test split report gives: fitted like the shipped model, on the training split
# alone. The shipped model then learns from the test split's role families too (config.SHIPPED_SPLITS).
HELD_OUT_MODEL := models/model.held-out.joblib
HELD_OUT_FILES := $(HELD_OUT_MODEL).json models/model.held-out.scope.joblib models/model.held-out.scope.joblib.json
SHIPPED_DATA := --data data/processed/train.csv --data data/processed/test.csv
METRICS := models/metrics.json
PORTABLE := models/model.portable.json

.DEFAULT_GOAL := help
.PHONY: help install data train export evaluate predict serve tune test lint bench seeds notebook clean

# make predict TEXT='...': the text reaches the program through the environment, never through the shell's
# parser, so quotes, backticks and $ signs stay text. $(value ...) keeps make from expanding $ signs in it.
export BPO_KPO_TEXT := $(value TEXT)

help: ## Show the targets
	@echo "Usage: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): $(INSTALL_INPUTS) constraints.txt
	@echo "installing bpo-kpo and its dependencies into $(VENV): about a minute on a fresh clone, quiet until done"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/python -m compileall -q pipeline
	@touch $@

install: $(STAMP) ## Create .venv and install the package with its dev extras

# The two tools below need only the standard library and run on every make: once the environment exists they
# run on its Python, which starts at once, where a version manager's `python3` (a pyenv shim) costs a tenth of
# a second a call. `test -x` follows the link, so an environment whose interpreter was removed is not used.
TOOL_PYTHON := $(or $(shell test -x $(BIN)/python && echo $(BIN)/python),$(PYTHON))

# `+` runs these under `make -n` too, so a dry run shows truly what would rerun.
$(DEPS): FORCE
	+@$(TOOL_PYTHON) tools/stage_deps.py $@

include $(DEPS)

$(INSTALL_INPUTS): FORCE
	+@$(TOOL_PYTHON) tools/install_inputs.py $@

# $(call list_data,PATHS): the listing of every data file under PATHS into $@, replacing $@ only on a change.
define list_data
+@mkdir -p $(@D)
+@LC_ALL=C find $(1) -type f ! -name '.*' ! -name '*.md' -printf '%p\t%s\t%T@\n' | LC_ALL=C sort > $@.new
+@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi
endef

$(RAW_LISTING): FORCE
	$(call list_data,$(PREPARE_DATA))

$(REPORT_LISTING): FORCE
	$(call list_data,$(REPORT_DATA))

FORCE:

# The environment is order-only: reinstalling does not redo a stage; the exact library versions (constraints.txt)
# do, since they can change what a stage writes.
$(SUMMARY): $(RAW_LISTING) $(PREPARE_CODE) $(PREPARE_PARAMS) constraints.txt | $(STAMP)
	$(CLI) prepare

data: $(SUMMARY) ## Build the dataset (prepare) into data/processed

# train writes the model, its metadata, and the scope model with its own. The three are made by the model's rule;
# one missing retrains. (Not a grouped target, &:, whose dependents GNU make 4.3 leaves out of `make -n`.)
$(MODEL): $(SUMMARY) $(LEXICON) $(TRAIN_CODE) $(TRAIN_PARAMS)
	$(CLI) train $(SHIPPED_DATA) --model $(MODEL)

$(MODEL_META) $(SCOPE_MODEL) $(SCOPE_META): $(MODEL)
	@test -f $@ || $(CLI) train $(SHIPPED_DATA) --model $(MODEL)

$(HELD_OUT_MODEL): $(SUMMARY) $(LEXICON) $(TRAIN_CODE) $(TRAIN_PARAMS)
	@echo "fitting the held-out model on the training split alone: the test split's figures are its own"
	$(CLI) train --model $(HELD_OUT_MODEL)

$(HELD_OUT_FILES): $(HELD_OUT_MODEL)
	@test -f $@ || $(CLI) train --model $(HELD_OUT_MODEL)

# report reads both models with their scope models, every split (written with the summary) and its own data.
$(METRICS): $(HELD_OUT_MODEL) $(HELD_OUT_FILES) $(MODEL) $(MODEL_META) $(SCOPE_MODEL) $(SCOPE_META) $(SUMMARY) \
		$(LEXICON) $(REPORT_LISTING) $(REPORT_CODE) $(REPORT_PARAMS)
	@echo "evaluating the test split, the field set and the challenge set, with the audit and the invariance suite; writing metrics, plots, errors.csv and the model card"
	$(CLI) report --model $(MODEL)

$(PORTABLE): $(MODEL) $(MODEL_META) $(SCOPE_MODEL) $(SCOPE_META) $(EXPORT_CODE) $(EXPORT_PARAMS)
	$(CLI) export

train: $(METRICS) $(PORTABLE) ## Prepare, train, evaluate and export; only what changed reruns (make -B train forces)

export: $(PORTABLE) ## Write the portable JSON model and its conformance vectors

evaluate: $(MODEL) $(MODEL_META) $(SCOPE_MODEL) $(SCOPE_META) $(HELD_OUT_MODEL) $(HELD_OUT_FILES) ## Evaluate the model on the test split (by the held-out model), field and challenge sets
	$(CLI) evaluate --model $(MODEL)

# Checked when make reads this file: a prerequisite is built first, so a check in the recipe came only after a
# fresh clone had installed, prepared and trained for minutes.
ifneq ($(filter predict,$(MAKECMDGOALS)),)
ifeq ($(strip $(value TEXT)),)
$(error usage: make predict TEXT="a job posting")
endif
endif

predict: $(MODEL) ## Label one posting: make predict TEXT="..."
	@$(CLI) predict --model $(MODEL) -- "$$BPO_KPO_TEXT"

serve: $(PORTABLE) ## Serve the model over HTTP on 127.0.0.1:8000 (POST /predict, GET /health, /model, /docs)
	$(CLI) serve

tune: $(SUMMARY) ## Grid-search the parameters (a few minutes); APPLY=1 writes the winner to params/train.toml
	$(CLI) tune$(if $(APPLY), --apply)

# The suite starts a few hundred processes that import the package: compiled once here, they read the cache
# even where Python may not write it (PYTHONDONTWRITEBYTECODE), rather than each compiling every module again.
test: $(METRICS) $(PORTABLE) ## Run the test suite (trains the model first if needed)
	$(BIN)/python -m compileall -q pipeline
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check pipeline tests benchmarks tools
	$(BIN)/ruff format --check pipeline tests benchmarks tools

# The timings are of a warm install: the package's modules compiled and cached, as pip leaves a wheel install and
# as any run after the first does. An editable install in an environment that may not write that cache
# (PYTHONDONTWRITEBYTECODE) would compile every module on every run: about 0.05 s of each one-posting predict.
bench: $(PORTABLE) ## Measure speed and memory (not part of make test)
	$(BIN)/python -m compileall -q pipeline
	$(BIN)/python benchmarks/run.py

# Copies of the project retrain under several generator seeds: how much of a figure is the draw.
seeds: $(STAMP) ## Retrain under generator seeds 42 and 1-5; print each figure's spread (not part of make test)
	$(BIN)/python benchmarks/seeds.py

notebook: $(METRICS) ## Rerun the exploration notebook and store it with its outputs
	@echo "executing notebooks/1.0-bk-explore-dataset.ipynb (about 30 s)"
	$(BIN)/jupyter-execute --inplace --timeout=600 --kernel_name=python3 notebooks/1.0-bk-explore-dataset.ipynb

clean: ## Remove the environment, processed data and models
	rm -rf $(VENV) .make data/processed/*.csv data/processed/*.json models/*.joblib models/*.skops models/*.json \
		models/*.csv models/*.md models/plots .pytest_cache .ruff_cache
