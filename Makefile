# coyotegen: generate the SDKs, check them, test everything.
#
#   make generate   regenerate out/ from spec/
#   make check      fail when out/ is stale (writes nothing)
#   make test       install missing toolchains, then every test of every language
#   make bench      benchmarks (never part of make test)
#   make golden     rewrite golden/*/want and stderr.txt after a deliberate change

GO ?= go

.PHONY: all generate check test test-go test-python test-ts test-cpp test-dotnet deps vet bench golden

all: check test

generate:
	$(GO) run ./cmd/coyotegen generate

check:
	$(GO) run ./cmd/coyotegen generate --check

deps:
	scripts/deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

test: deps check vet test-go test-python test-ts test-cpp test-dotnet

test-go:
	@rm -f .cache/conformance-matrix.txt
	COYOTE_CONFORMANCE_MATRIX=$(CURDIR)/.cache/conformance-matrix.txt $(GO) test -race -count=1 ./...
	@cat .cache/conformance-matrix.txt

test-python:
	scripts/test-python.sh

test-ts:
	scripts/test-ts.sh

test-cpp:
	scripts/test-cpp.sh

test-dotnet:
	scripts/test-dotnet.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./cmd/coyotegen/... ./runtime/... ./conformance/...
	scripts/bench-python.sh
	scripts/bench-ts.sh

golden:
	$(GO) test ./cmd/coyotegen/... -run TestGolden -update
