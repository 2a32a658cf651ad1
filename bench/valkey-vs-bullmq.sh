#!/usr/bin/env bash
# Runs queue-valkey's benchmark and Node's bullmq doing the same work on the
# same redis-server, and prints both. Used by `make bench`; the figures go in
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server" >&2; exit 1; }
command -v npm >/dev/null || { echo "node and npm are needed for the BullMQ side" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
# The production settings of compose.yaml: AOF, fsync on every write.
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly yes \
  --appendfsync "${APPENDFSYNC:-always}" --maxmemory-policy noeviction --daemonize yes --pidfile "$dir/pid" >/dev/null
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

( cd bench/bullmq && [ -d node_modules/bullmq ] || npm install --silent --no-audit --no-fund >/dev/null )

echo "== queue-valkey (Go), redis-server appendfsync=${APPENDFSYNC:-always}"
TEST_VALKEY_URL="redis://127.0.0.1:$port/0" go test -run '^$' -bench 'BenchmarkEngine' -benchtime "${BENCHTIME:-3s}" ./plugins/queue-valkey/ \
  | grep -E 'Benchmark|jobs/s'
echo "== bullmq $(node -p 'require("./bench/bullmq/node_modules/bullmq/package.json").version') (Node $(node --version)), same server"
REDIS_URL="redis://127.0.0.1:$port" node bench/bullmq/bench.js "${JOBS:-5000}"
