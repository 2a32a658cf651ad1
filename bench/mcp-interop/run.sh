#!/usr/bin/env bash
# Interop check: starts a throwaway server (local mode, loopback, fresh
# data dir) and drives `claude-mem mcp` over stdio with the official
# TypeScript MCP SDK from npm (interop.mjs).
# Usage: bench/mcp-interop/run.sh [path/to/claude-mem]  (default bin/claude-mem)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$(realpath "${1:-$root/bin/claude-mem}")"
[ -x "$bin" ] || { echo "no $bin: run 'make build' first" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export CLAUDE_MEM_DATA_DIR="$work/data"
"$bin" server start --foreground --data-dir "$work/data" --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS "$url/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/server.log" >&2; echo "the server exited" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "$url/healthz" >/dev/null || { cat "$work/server.log" >&2; echo "the server did not start" >&2; exit 1; }

cd "$here"
# package-lock.json is git-ignored; the SDK version is pinned in package.json.
npm install --no-audit --no-fund --silent
CLAUDE_MEM_BIN="$bin" CLAUDE_MEM_SERVER_URL="$url" node interop.mjs
