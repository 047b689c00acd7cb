# incidentmap — see README.md. `make run` and `make test` do all the set-up.
GO        ?= go
BIN       := bin/incidentmap
DATA_DIR  ?= $(CURDIR)/data
ADDR      ?= 127.0.0.1:8080
TEST_DEPS := gdal-bin chromium wrk

.PHONY: all run test build frontend deps deps-run bench fuzz soak vet clean

all: build

## deps: install missing Debian/Ubuntu packages: PostgreSQL and PostGIS to run, and the test tools (GDAL, Chromium, wrk)
deps:
	@.ci/deps $(TEST_DEPS)

## deps-run: install only what running needs (PostgreSQL, PostGIS)
deps-run:
	@.ci/deps

## frontend: bundle the map app (npm packages, esbuild) into frontend/dist
frontend: frontend/node_modules/.package-lock.json
	npm run --prefix frontend --silent build

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error

## build: build the binary (with the map embedded) into bin/
build: frontend
	$(GO) build -o $(BIN) ./cmd/incidentmap

## run: install what is missing, build, load places/borders/demo data (skipped when unchanged), serve on the embedded PostGIS
run: deps-run build
	$(BIN) places load --data-dir "$(DATA_DIR)" --reenrich=false --if-changed
	$(BIN) borders load --data-dir "$(DATA_DIR)" --if-changed
	$(BIN) demo load --data-dir "$(DATA_DIR)"
	$(BIN) serve --data-dir "$(DATA_DIR)" --addr "$(ADDR)"

## test: vet and run every test against a throwaway PostGIS and a headless Chromium
test: deps frontend
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	cd frontend && node --test --test-reporter=dot test/  # npm test, one dot per test
	$(GO) test -count=1 -timeout 20m ./...

## bench: items, tiles, table growth and map first render against their physical limits (writes bench/results/)
# Loopback only; data dirs are kept in /tmp/incidentmap-bench* and reused (the items suite alone: about 6 minutes,
# plus about 4 to generate its 1,000,000 wide rows the first time).
# Narrow it with e.g. BENCH_ARGS='-suite tiles' or BENCH_ARGS='-growth 100000,1000000' (skips the 10M data set, which takes
# most of an hour to generate the first time; `go run ./bench -prepare` generates the growth sets ahead).
BENCH_ROWS ?= 1000000
BENCH_ARGS ?=
bench: deps build
	$(GO) run ./bench -n $(BENCH_ROWS) $(BENCH_ARGS)

## soak: 10 minutes of mixed reads and writes at 200 req/s (heap and goroutines must stay flat),
## then the database fault test with 500 concurrent writers (0 lost, 0 duplicated reports)
SOAK ?= 10m
soak: deps
	INCIDENTMAP_SOAK=$(SOAK) $(GO) test -count=1 -timeout 60m -v -run '^TestSoak$$' ./api/
	INCIDENTMAP_FAULT_WORKERS=500 $(GO) test -count=1 -timeout 20m -v -run '^TestReportsSurviveDatabaseFaultsUnderLoad$$' ./api/

## fuzz: run every fuzz target for FUZZTIME each (corpora in testdata/fuzz)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
