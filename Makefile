# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make demo   the Annex B register on SQLite, played through the console
#   make test   ruff and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench clean

$(BIN)/soc-bot: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/soc-bot
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/soc-bot
	$(BIN)/soc-bot demo

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .

format: $(VENV)/.dev
	$(BIN)/ruff format .

bench: $(VENV)/.dev
	$(BIN)/python bench/slack_bench.py
	$(BIN)/python bench/reminder_bench.py
	$(BIN)/python bench/boards_bench.py

clean:
	rm -rf $(VENV) soc-demo.db* .pytest_cache .ruff_cache
