# Every target installs what it needs first; nothing here assumes a prepared machine.
PY ?= python3
UV := $(PY) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup serve test lint stack-up stack-status stack-down bench mutation

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
		|| $(PY) -m pip install --quiet --user --break-system-packages "uv>=0.5"
	@$(UV) sync --frozen --quiet

## The main job: install, bring the stack up, serve the API on :8000 (docs at /docs).
serve: setup
	$(UV) run beatstream stack up
	$(UV) run beatstream serve

## Lint, type-check, check the import contracts (docs/architecture.md), then the whole test suite against real servers.
test: setup lint
	$(UV) run pytest

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports

stack-up: setup
	$(UV) run beatstream stack up

stack-status: setup
	$(UV) run beatstream stack status

stack-down: setup
	$(UV) run beatstream stack down

## http_overhead drives its HTTP rows with wrk (a C load generator): installed if missing.
bench: setup
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk || sudo apt-get install -y wrk
	$(UV) run python -m bench

## Mutation testing (mutmut 3) of the security-critical modules; not part of `test`.
## Prints per-module scores (>= 90% required) and checks the issue-10 mutants.
mutation: setup
	$(UV) run python tools/mutation.py
