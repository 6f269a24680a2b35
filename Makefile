# gameday — `make demo` runs a real drill against the embedded demo; `make test` runs the suite.
# Both create .venv with a Python >= 3.12 found on this machine (pyenv versions included).

SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

find_python = $(shell for c in "$$PYTHON" python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	/usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
	[ -n "$$c" ] || continue; p=$$(command -v "$$c" 2>/dev/null) || continue; \
	"$$p" -c 'import sys,venv; sys.exit(sys.version_info < (3,12))' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: demo demo-tabletop demo-training test fuzz bench venv clean lint schema bytecode

$(STAMP): pyproject.toml
	@set -e; base="$(find_python)"; \
	if [ -z "$$base" ]; then echo "error: need Python >= 3.12 (set PYTHON=/path/to/python3.12)" >&2; exit 2; fi; \
	if ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3,12))' 2>/dev/null; then \
	  echo "using $$base"; rm -rf $(VENV); "$$base" -m venv $(VENV); fi; \
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,load,docker,kubernetes]' 2>&1 | grep -v "^WARNING: Location" || true; \
	$(PY) -c 'import gameday, chaoslib, pydantic' && touch $(STAMP)

venv: $(STAMP)

# Byte-compile gameday's own modules (pip compiles site-packages, not an editable install's
# sources, and PYTHONDONTWRITEBYTECODE=1 stops Python from caching them itself): ~40 ms less
# start-up per `gameday` command. Up-to-date files are skipped, so this is cheap to repeat; it is
# only a speed-up, so a problem (a read-only checkout) is shown and does not stop the target.
bytecode: $(STAMP)
	-@$(PY) -m compileall -q gameday

# reports/demo/ is this target's own output: each run starts it afresh (a drill never appends to a journal)
demo: bytecode
	rm -rf reports/demo
	$(VENV)/bin/gameday run scenarios/checkout-db-primary-failure.yaml --mode ci --out reports/demo

# The same scenario as a tabletop, headless: scripted participants, the scenario clock at full speed.
demo-tabletop: bytecode
	rm -rf reports/demo-tabletop
	$(VENV)/bin/gameday run scenarios/tabletop-checkout-db-outage.yaml --mode tabletop --pace instant \
	  --responders scenarios/responders/tabletop-checkout-db-outage.yaml --out reports/demo-tabletop || test $$? -eq 1

# A training session, headless: a scripted trainee as incident commander, simulated responders, the
# scenario clock at full speed; then the trainee's profile across the sessions in reports/.
demo-training: bytecode
	rm -rf reports/demo-training
	$(VENV)/bin/gameday run scenarios/training-2-checkout-db-failover.yaml --mode training --trainee dana --seed 1 \
	  --pace instant --responders scenarios/responders/training-2-checkout-db-failover.yaml --out reports/demo-training \
	  || test $$? -eq 1
	$(VENV)/bin/gameday train profile dana

test: bytecode
	$(PY) -m pytest -q --durations=25 tests

# The fuzz suite (tests/fuzz) and the random-signal drills, longer than `make test` runs them:
# random examples (hypothesis' long profile, GAMEDAY_FUZZ_FACTOR times as many; failing ones kept
# under $TMPDIR/gameday-fuzz-examples), every signal in every phase (seed: GAMEDAY_SIGNAL_SEED).
fuzz: bytecode
	GAMEDAY_FUZZ=long $(PY) -m pytest -q -o timeout=3600 tests/fuzz tests/integration/test_random_signals.py

bench: bytecode
	$(PY) bench/run_all.py

# ruff over the package (rules in pyproject.toml), then mypy as configured there (strict for
# gameday.model, gameday.journal, gameday.analysis; checked elsewhere). Both run; either failing fails.
lint: $(STAMP)
	@rc=0; $(VENV)/bin/ruff check gameday || rc=1; $(VENV)/bin/mypy || rc=1; exit $$rc

# The published JSON Schemas; tests/unit/test_schema_current.py fails when they fall behind the code.
schema: $(STAMP)
	$(VENV)/bin/gameday schema > schema/scenario.schema.json
	$(VENV)/bin/gameday schema --journal > schema/journal.schema.json
	$(VENV)/bin/gameday program schema > schema/program.schema.json
	$(VENV)/bin/gameday findings schema > schema/findings.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .gameday reports/demo
