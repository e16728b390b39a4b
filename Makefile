# placegeo: `make run` builds the Jinan demo atlas and serves it; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ATLAS  ?= atlas.gpkg

.PHONY: run serve-prod test install lint typecheck bench bench-national demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# the demo is built only where no atlas is yet: an atlas holding imports is never rebuilt over
demo: install
	@$(BIN)/placegeo atlas info --atlas $(ATLAS) >/dev/null 2>&1 \
	  && echo "$(ATLAS) exists: kept as it is (rebuild the demo with: $(BIN)/placegeo demo --atlas $(ATLAS))" \
	  || $(BIN)/placegeo demo --atlas $(ATLAS)

run: demo
	$(BIN)/placegeo serve --atlas $(ATLAS) --host 127.0.0.1

# nginx in front of gunicorn, as on the public site (webmap/serve-prod; needs Debian's nginx)
serve-prod: demo
	$(BIN)/python webmap/serve-prod --atlas $(ATLAS) --listen 127.0.0.1:8080

test: install
	./.ci/install-chromium || echo "chromium could not be installed: the browser tests will be skipped"
	./.ci/install-nginx || echo "nginx could not be installed: the production-stack tests will be skipped"
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/mypy
	@# a throwaway PostGIS on 127.0.0.1 (installed from Debian's packages if missing): the storage,
	@# import and web tests run on it as well as on GeoPackage, and fail rather than skip without it
	url=$$(./.ci/start-postgis) && trap './.ci/start-postgis stop' EXIT && \
	  PLACEGEO_TEST_POSTGIS=$$url PLACEGEO_REQUIRE_POSTGIS=1 $(BIN)/python -m pytest --doctest-modules src/placegeo tests

lint: install
	$(BIN)/ruff check src tests benchmarks notebooks

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_import_export.py
	$(BIN)/python benchmarks/bench_relocation.py
	$(BIN)/python benchmarks/bench_search.py  # --big adds 2,000,000 names
	$(BIN)/python benchmarks/bench_cold.py
	$(BIN)/python benchmarks/bench_coverage.py
	$(BIN)/python benchmarks/bench_append.py
	$(BIN)/python benchmarks/bench_web.py
	url=$$(./.ci/start-postgis) && trap './.ci/start-postgis stop' EXIT && \
	  $(BIN)/python benchmarks/bench_ogc_bbox.py --postgis $$url && \
	  $(BIN)/python benchmarks/bench_tiles.py --postgis $$url

# place-name search at national scale (13,000,000 names, GeoPackage and PostGIS): long, not in `make bench`
# the benchmark's own server, given a quarter of the machine's memory as shared_buffers (PostgreSQL's advice)
bench-national: install
	url=$$(PLACEGEO_PG_SHARED_BUFFERS=$$(( $$(getconf _PHYS_PAGES) * $$(getconf PAGE_SIZE) / 4194304 ))MB \
	  ./.ci/start-postgis) && trap './.ci/start-postgis stop' EXIT && \
	  $(BIN)/python benchmarks/bench_national.py --postgis $$url

clean:
	rm -rf $(VENV) build dist exports .pytest_cache .ruff_cache .mypy_cache $(ATLAS)
