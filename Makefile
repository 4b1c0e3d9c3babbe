# bpo-kpo: every target that needs the environment creates .venv and installs the package itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLI := $(BIN)/bpo-kpo

# A listing of every raw file (name, size, modification time), rewritten only when it changes: prepare reruns
# when a file is added, removed or edited, whatever characters its name holds. A list of file names as
# prerequisites would split names at spaces and could not see a removal.
RAW_LISTING := data/processed/.raw-files
CONFIG := pipeline/config.py
PREPARE_CODE := $(CONFIG) pipeline/catalogue.py pipeline/generate.py pipeline/phrasing.py pipeline/dataset.py pipeline/readers.py \
	pipeline/audit.py pipeline/material.py
TRAIN_CODE := $(CONFIG) pipeline/model.py pipeline/train.py pipeline/evaluate.py pipeline/scope.py pipeline/audit.py
EVALUATE_CODE := $(CONFIG) pipeline/evaluate.py pipeline/report.py pipeline/plots.py pipeline/model_card.py pipeline/predict.py \
	pipeline/model.py pipeline/invariance.py pipeline/scope.py
EXPORT_CODE := $(CONFIG) pipeline/export.py pipeline/conformance.py pipeline/model.py

SUMMARY := data/processed/summary.json
MODEL := models/model.joblib
# Every model file has its own metadata beside it, named after the whole file name.
MODEL_META := $(MODEL).json
METRICS := models/metrics.json
PORTABLE := models/model.portable.json

.DEFAULT_GOAL := help
.PHONY: help install data train export evaluate predict serve tune test lint bench notebook clean

# make predict TEXT='...': the text reaches the program through the environment, never through the shell's
# parser, so quotes, backticks and $ signs stay text. $(value ...) keeps make from expanding $ signs in it.
export BPO_KPO_TEXT := $(value TEXT)

help: ## Show the targets
	@echo "Usage: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@echo "installing bpo-kpo and its dependencies into $(VENV): about a minute on a fresh clone, quiet until done"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the package with its dev extras

# `+` runs the listing under `make -n` too, so a dry run shows truly whether prepare would rerun.
$(RAW_LISTING): FORCE
	+@mkdir -p $(@D)
	+@LC_ALL=C find data/raw -type f ! -name '.*' -printf '%p\t%s\t%T@\n' | LC_ALL=C sort > $@.new
	+@if cmp -s $@.new $@; then rm -f $@.new; else mv -f $@.new $@; fi

FORCE:

$(SUMMARY): $(STAMP) $(RAW_LISTING) $(PREPARE_CODE)
	$(CLI) prepare

data: $(SUMMARY) ## Build the dataset (prepare) into data/processed

# One rule makes both files (&:), so a missing or stale metadata file retrains the model too.
$(MODEL) $(MODEL_META) &: $(SUMMARY) $(TRAIN_CODE)
	$(CLI) train --model $(MODEL)

$(METRICS): $(MODEL) $(MODEL_META) $(EVALUATE_CODE)
	@echo "evaluating the test split and the field set; writing metrics, plots, errors.csv and the model card"
	$(CLI) report --model $(MODEL)

$(PORTABLE): $(MODEL) $(EXPORT_CODE)
	$(CLI) export

train: $(METRICS) $(PORTABLE) ## Prepare, train, evaluate and export; only what changed reruns (make -B train forces)

export: $(PORTABLE) ## Write the portable JSON model and its conformance vectors

evaluate: $(MODEL) ## Evaluate the model on the test split and the field set
	$(CLI) evaluate --model $(MODEL)

predict: $(MODEL) ## Label one posting: make predict TEXT="..."
	@test -n "$$BPO_KPO_TEXT" || { echo 'usage: make predict TEXT="a job posting"' >&2; exit 2; }
	@$(CLI) predict --model $(MODEL) -- "$$BPO_KPO_TEXT"

serve: $(PORTABLE) ## Serve the model over HTTP on 127.0.0.1:8000 (POST /predict, GET /health, /model, /docs)
	$(CLI) serve

tune: $(SUMMARY) ## Grid-search the parameters by grouped cross-validation (a few minutes)
	$(CLI) tune

test: $(METRICS) $(PORTABLE) ## Run the test suite (trains the model first if needed)
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## Check the code with ruff
	$(BIN)/ruff check pipeline tests benchmarks
	$(BIN)/ruff format --check pipeline tests benchmarks

bench: $(PORTABLE) ## Measure speed and memory (not part of make test)
	$(BIN)/python benchmarks/run.py

notebook: $(METRICS) ## Rerun the exploration notebook and store it with its outputs
	@echo "executing notebooks/1.0-bk-explore-dataset.ipynb (about 30 s)"
	$(BIN)/jupyter-execute --inplace --timeout=600 --kernel_name=python3 notebooks/1.0-bk-explore-dataset.ipynb

clean: ## Remove the environment, processed data and models
	rm -rf $(VENV) data/processed/*.csv data/processed/*.json models/*.joblib models/*.skops models/*.json \
		models/*.csv models/*.md models/plots .pytest_cache .ruff_cache
