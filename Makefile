VENV ?= .venv

.PHONY: run test lint bench demo catalogs portal-css

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

# Rebuild the portal's GOV.UK Frontend stylesheet with the city's font stack (needs npm; the
# compiled file is committed, so a deployment never needs node).
PORTAL_NPM := $(shell mktemp -d -u /tmp/portal-css.XXXXXX)
portal-css:
	mkdir -p $(PORTAL_NPM) && cd $(PORTAL_NPM) && npm init -y >/dev/null && npm install --no-audit --no-fund govuk-frontend@6.6.0 sass >/dev/null
	$(PORTAL_NPM)/node_modules/.bin/sass --no-source-map --style=compressed --quiet --load-path=$(PORTAL_NPM)/node_modules portal/assets/portal.scss portal/static/govuk/govuk-frontend-6.6.0.min.css
	cp $(PORTAL_NPM)/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js portal/static/govuk/govuk-frontend-6.6.0.min.js
	sed -i 's|//# sourceMappingURL=govuk-frontend.min.js.map||' portal/static/govuk/govuk-frontend-6.6.0.min.js
	rm -rf $(PORTAL_NPM)
