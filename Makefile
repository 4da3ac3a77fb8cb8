VENV ?= .venv

.PHONY: run test lint bench demo catalogs

run:
	bash deploy/quickstart.sh

test:
	bash deploy/test.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy -p hotline.core -p hotline.plugins
	VENV=$(VENV) bash deploy/lint-imports.sh

bench:
	$(VENV)/bin/python benchmarks/run.py

demo:
	$(VENV)/bin/hotline demo-data

# Re-extract user-visible strings and merge them into the zh_CN and en catalogs.
catalogs:
	$(VENV)/bin/pybabel extract -F babel.cfg -o core/locale/messages.pot --no-location --sort-output .
	$(VENV)/bin/pybabel update -i core/locale/messages.pot -d core/locale --no-fuzzy-matching
