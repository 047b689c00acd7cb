# incidentmap — see README.md. `make run` and `make test` do all the set-up.
GO        ?= go
BIN       := bin/incidentmap
DATA_DIR  ?= $(CURDIR)/data
ADDR      ?= 127.0.0.1:8080
TEST_DEPS := gdal-bin

.PHONY: all run test build deps bench fuzz vet clean

all: build

## deps: install missing Debian/Ubuntu packages (PostgreSQL, PostGIS, GDAL...)
deps:
	@.ci/deps $(TEST_DEPS)

## build: build the binary into bin/
build:
	$(GO) build -o $(BIN) ./cmd/incidentmap

## run: install what is missing, build, start the server on the embedded PostGIS
run: deps build
	$(BIN) serve --data-dir "$(DATA_DIR)" --addr "$(ADDR)"

## test: vet and run every test against a throwaway PostGIS
test: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

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
