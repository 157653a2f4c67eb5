#!/usr/bin/env bash
# `make run`: build Usher and serve on http://127.0.0.1:8080 with SQLite under ./data.
# Configuration comes from USHER_* variables or flags passed through ARGS (e.g. make run ARGS="--port 9000").
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh build
swift build --product usher
exec .build/debug/usher serve ${ARGS:-} "$@"
