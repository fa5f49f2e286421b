SHELL := /bin/bash
# Everything a fresh machine needs: `make demo` and `make test` create .venv/ and install into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: install demo test bench browser speech-tools ffmpeg clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[test]' 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name heygem --display-name "HeyGem (.venv)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Debian chromium for the browser tests (root on CI and fresh machines; skipped with a note otherwise).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium missing and not root: browser tests will be skipped"; fi; }

# espeak-ng speaks the sentences the phonetic-mouth tests align (root on CI; skipped with a note otherwise).
speech-tools:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null; \
	  else echo "note: espeak-ng missing and not root: spoken-sentence tests will be skipped"; fi; }

demo: install
	$(BIN)/heygem demo

test: install browser speech-tools
	$(BIN)/python -m pytest -q -ra

# Debian's ffmpeg is the yardstick `make bench` measures against (the product itself never calls it).
ffmpeg:
	@command -v ffmpeg >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null; \
	  else echo "note: ffmpeg missing and not root: the comparison with ffmpeg's transcode will be skipped"; fi; }

bench: install ffmpeg
	$(BIN)/python bench/run.py $(CLIPS)

clean:
	rm -rf $(VENV) demo_output .pytest_cache
