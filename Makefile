# Every target installs what it needs first; nothing here assumes a prepared machine.
PY ?= python3
UV := $(PY) -m uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup serve test test-cluster lint stack-up stack-status stack-down bench mutation mongoeco-probe vendor browser

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

## Lint, type-check, check the import contracts (docs/architecture.md), then the whole test suite against real servers
## (the dashboard's browser tests included), then the cluster pass.
test: setup lint browser
	$(UV) run pytest
	$(MAKE) --no-print-directory test-cluster

## Second pass: the store-facing tests against a 3-node Elasticsearch cluster and a Redis Cluster
## (`beatstream stack up --cluster`, started here when not running and stopped after), plus the
## failure tests that kill a node (tests/cluster). A selection, not the whole suite: docs/stack.md.
CLUSTER_TESTS := \
	tests/beatstream/cache/test_store.py \
	tests/beatstream/cache/test_song_changes.py \
	tests/beatstream/search/test_search_cache.py \
	tests/beatstream/search/test_indices.py \
	tests/beatstream/test_ratelimit.py::test_anonymous_requests_are_limited_per_ip \
	tests/beatstream/auth/test_revocation.py::test_logout_everywhere_revokes_every_token_of_the_account_only \
	tests/beatstream/analytics/test_plays.py::test_daily_counts_match_python_with_empty_days_as_zero \
	tests/beatstream/analytics/test_song_analytics.py::test_top_artists_without_country_rank_by_total_views \
	tests/pipelines/test_reindex.py::test_reindex_builds_a_new_index_and_swaps_the_alias \
	tests/pipelines/test_invalidation.py::test_reindex_songs_invalidates_the_cached_answers \
	tests/pipelines/test_sync.py::test_check_finds_lost_unexpected_and_stale_and_repair_fixes_them \
	tests/cluster
test-cluster: setup
	BEATSTREAM_TOPOLOGY=cluster $(UV) run pytest -p no:randomly $(CLUSTER_TESTS)

## Debian's Chromium for the dashboard's browser tests (tests/browser): installed once, quietly.
browser:
	@$(PY) tools/browser.py

## Refresh every vendored front-end file from npm at its pinned version: the dashboard's
## JavaScript (tools/vendor.py) and the Swagger UI / ReDoc assets of /docs and /redoc
## (tools/vendor_docs.py). Licences and SHA-256 manifests are written beside them.
vendor: setup
	$(UV) run python tools/vendor.py
	$(UV) run python tools/vendor_docs.py

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

## The MongoDB feature probe against mongoeco (Python >= 3.13, own venv); not part of `test`.
## docs/mongodb-stand-in.md says why it is no test lane.
mongoeco-probe: setup
	$(UV) run python tools/mongoeco_probe.py
