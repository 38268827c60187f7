#!/usr/bin/env bash
# The main job in one command: start the reference server on loopback, send it
# one encrypted chat completion, print the reply and its _metadata, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${NOMYO_DEMO_PORT:-12435}
node dist/cli/main.js serve --port "$port" --quiet &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
# The server makes its RSA-4096 key at start; wait until it answers.
for _ in $(seq 1 100); do
  if node dist/cli/main.js server-key "http://127.0.0.1:$port" --allow-http >/dev/null 2>&1; then break; fi
  kill -0 "$server" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.2
done
node dist/cli/main.js chat --base-url "http://127.0.0.1:$port" --allow-http --metadata "${1:-hello}"
