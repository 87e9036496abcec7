# Two entry points on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-all bench lint venv browser clean

venv: $(STAMP)

# Re-install only when requirements change: fast when already installed.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Debian chromium for the end-to-end browser test (Playwright drives it; no browser download).
browser:
	@# Outside CI a missing browser only skips the browser test; in CI (CI=true) it fails the run.
	@test -x /usr/bin/chromium || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  (echo "warning: could not install Debian chromium; the browser test will be skipped"; \
	   test "$$CI" != "true" || (echo "error: CI needs chromium for the browser test" >&2; exit 1)))
	@# A Hangul TrueType font for the Korean PDF report (without it the PDF is English-only).
	@test -e /usr/share/fonts/truetype/nanum/NanumGothic.ttf || (command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum >/dev/null) || \
	  echo "warning: could not install fonts-nanum; PDF reports will be English-only")

run: $(STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q

test-all: $(STAMP) browser
	$(PY) -m pytest -q -m ""

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
