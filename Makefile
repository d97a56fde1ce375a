# bangfu — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO ?= go
PKGS ?= ./...
FUZZTIME ?= 20s

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Start bangfu with demo data (finds, starts or installs PostgreSQL unless DATABASE_URL is set)
	@scripts/run.sh

.PHONY: test
test: ## Run the whole suite with -race against real PostgreSQL (and headless Chromium)
	@scripts/test.sh $(if $(filter-out ./...,$(PKGS)),$(PKGS))

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 20s); seeds are in testdata/fuzz/
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

.PHONY: screenshots
screenshots: ## Retake the README's screenshots (docs/screenshots) from the demo data in headless Chromium
	@BANGFU_SCREENSHOTS=$(CURDIR)/docs/screenshots scripts/test.sh -run Screenshots ./web/

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, and nothing in the service imports internal/bench
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@GO=$(GO) scripts/bench-fence.sh

.PHONY: build
build: ## Build bin/bangfu
	$(GO) build -o bin/bangfu ./cmd/bangfu

.PHONY: migrate
migrate: ## Apply schema changes to DATABASE_URL
	$(GO) run ./cmd/bangfu migrate

.PHONY: bench
bench: ## Province-scale figures: Go benchmarks, server vs floor load, jobs (BENCH_DURATION, BENCH_STUDENTS, BENCH_DATABASE_URL)
	@scripts/bench.sh
