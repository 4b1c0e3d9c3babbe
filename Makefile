# bpo-kpo: every target that needs the environment creates .venv and installs the package itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLI := $(BIN)/bpo-kpo

RAW_DATA := $(shell find data/raw -type f -not -name '.*' 2>/dev/null)
CONFIG := pipeline/config.py
PREPARE_CODE := $(CONFIG) pipeline/catalogue.py pipeline/generate.py pipeline/phrasing.py pipeline/dataset.py pipeline/readers.py
TRAIN_CODE := $(CONFIG) pipeline/model.py pipeline/train.py pipeline/evaluate.py
EXPORT_CODE := $(CONFIG) pipeline/export.py pipeline/conformance.py pipeline/model.py
EVALUATE_CODE := $(CONFIG) pipeline/evaluate.py pipeline/report.py pipeline/plots.py pipeline/model_card.py pipeline/predict.py pipeline/model.py

SUMMARY := data/processed/summary.json
MODEL := models/model.joblib
METRICS := models/metrics.json
PORTABLE := models/model.portable.json

.DEFAULT_GOAL := help
.PHONY: help install data train export evaluate predict serve tune test test-fast lint bench clean

help: ## Show the targets
	@echo "Usage: make <target>"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

install: $(STAMP) ## Create .venv and install the package with its dev extras

$(SUMMARY): $(STAMP) $(RAW_DATA) $(PREPARE_CODE)
	$(CLI) prepare

data: $(SUMMARY) ## Build the dataset (prepare) into data/processed

$(MODEL): $(SUMMARY) $(TRAIN_CODE)
	$(CLI) train

$(METRICS): $(MODEL) $(EVALUATE_CODE)
	$(CLI) report

$(PORTABLE): $(MODEL) $(EXPORT_CODE)
	$(CLI) export

train: $(METRICS) $(PORTABLE) ## Prepare, train, evaluate and export; only what changed reruns (make -B train forces)

export: $(PORTABLE) ## Write the portable JSON model and its conformance vectors

evaluate: $(MODEL) ## Evaluate the model on the test split and the field set
	$(CLI) evaluate

predict: $(MODEL) ## Label one posting: make predict TEXT="..."
	@test -n "$(TEXT)" || { echo 'usage: make predict TEXT="a job posting"' >&2; exit 2; }
	$(CLI) predict "$(TEXT)"

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

clean: ## Remove the environment, processed data and models
	rm -rf $(VENV) data/processed/*.csv data/processed/*.json models/*.joblib models/*.skops models/*.json \
		models/*.csv models/*.md models/plots .pytest_cache .ruff_cache
