# claude-mem server. `make help` lists the targets.
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/claude-mem
PROTO_DIR := sdk/proto
MODULE    := $(shell $(GO) list -m)
TOOLS_BIN := $(CURDIR)/.bin

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/claude-mem (host and bundled plugins in one binary)
	$(GO) build -trimpath -o $(BIN) ./cmd/claude-mem

.PHONY: run
run: build ## run the server in the foreground on the embedded SQLite default
	./$(BIN) server start --foreground

.PHONY: test
test: ## run every test with the race detector
	$(GO) test -race -timeout 15m ./...

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: generate
generate: ## regenerate the protobuf code under sdk/internal/pb, the OpenAPI descriptions and docs/openapi.json
	@mkdir -p $(TOOLS_BIN)
	$(GO) build -o $(TOOLS_BIN)/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
	$(GO) build -o $(TOOLS_BIN)/protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc
	rm -rf sdk/internal/pb
	cd $(PROTO_DIR) && protoc -I . \
		--plugin=protoc-gen-go=$(TOOLS_BIN)/protoc-gen-go \
		--plugin=protoc-gen-go-grpc=$(TOOLS_BIN)/protoc-gen-go-grpc \
		--go_out=$(CURDIR) --go_opt=module=$(MODULE) \
		--go-grpc_out=$(CURDIR) --go-grpc_opt=module=$(MODULE) \
		$$(find . -name '*.proto' | sort)
	$(GO) run ./host/openapi/gendesc
	$(GO) run ./cmd/claude-mem openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

BENCHTIME ?= 2s

.PHONY: bench
bench: ## run the benchmarks behind docs/benchmarks.md and print their figures
	$(GO) test -p 1 -run '^$$' -bench . -benchtime $(BENCHTIME) $$($(GO) list ./... | grep -v /plugins/queue-valkey)
	BENCHTIME=$(BENCHTIME) bench/valkey-vs-bullmq.sh
