# Every target installs what it needs first; nothing here assumes a prepared machine.
PY ?= python3
UV := $(PY) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup serve test lint stack-up stack-status stack-down bench mutation vendor-docs

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.5" \
		|| $(PY) -m pip install --quiet --user --break-system-packages "uv>=0.5"
	@$(UV) sync --frozen --quiet

## The main job: install, write .env with generated secrets (first run only), bring the
## stack up, load the demo into an empty database (BEATSTREAM_DEMO=false skips it),
## serve the API on :8000 (docs at /docs). docs/first-run.md.
serve: setup
	$(UV) run beatstream init
	$(UV) run beatstream stack up
	$(UV) run beatstream demo
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

bench: setup
	$(UV) run python -m bench

## Mutation testing (mutmut 3) of the security-critical modules; not part of `test`.
## Prints per-module scores (>= 90% required) and checks the issue-10 mutants.
mutation: setup
	$(UV) run python tools/mutation.py

## Re-vendor the Swagger UI and ReDoc assets /docs and /redoc serve (pinned npm versions).
vendor-docs: setup
	$(UV) run python tools/vendor_docs.py
