#!/usr/bin/env bash
# Builds the Dockerfile with Debian's podman and runs the image, on a machine that reaches no
# container registry: the base images are made locally (debootstrap for Debian, the host's node
# for the build stage) and passed as build arguments. Run as root: `npm run test:container`.
# Not part of `npm test`: it needs root, about a minute of apt and debootstrap the first time, and
# (on this kind of VM) the runc runtime and capped ulimits, which crun cannot work without.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${MEMSERVE_CONTAINER_WORK:-/tmp/memserve-container}
mkdir -p "$work"
log() { echo "container-test: $*"; }

need=()
for tool in podman runc debootstrap curl; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# crun cannot set the default ulimits without CAP_SYS_RESOURCE, nor run with a hybrid cgroup
# layout; runc with ulimits within the hard limits can.
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$work/containers.conf"

base=localhost/memserve-debian:bookworm
if ! podman image exists "$base"; then
  # The mirror apt uses (a URIs: or deb line, not a comment), else Debian's.
  mirror=$(grep -hE '^(URIs:|deb) ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian( |$)' | head -n 1 | tr -d ' ' || true)
  log "debootstrap bookworm from ${mirror:-http://deb.debian.org/debian}"
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" -c . | podman import - "$base" >/dev/null
fi

node_image=localhost/memserve-node:20
if ! podman image exists "$node_image"; then
  log "node image from the host's node $(node --version)"
  ctx="$work/node-ctx"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$(readlink -f "$(command -v node)")" "$ctx/node"
  cp -r "$(npm root -g)/npm" "$ctx/npm"
  # The host's CAs too: where egress goes through a TLS-inspecting proxy, npm ci needs its CA.
  cp "$(npm config get cafile 2>/dev/null | grep -v '^null$' || echo /etc/ssl/certs/ca-certificates.crt)" "$ctx/ca.crt"
  cat >"$ctx/Containerfile" <<NODE
FROM $base
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca.crt /usr/local/share/host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca.crt NPM_CONFIG_CAFILE=/usr/local/share/host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
NODE
  podman build -q -t "$node_image" "$ctx" >/dev/null
fi

log "podman build (the repository's Dockerfile)"
started=$(date +%s)
podman build --format docker --network host \
  --build-arg BUILD_IMAGE="$node_image" --build-arg RUNTIME_IMAGE="$base" \
  -t localhost/memserve:test . >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; exit 1; }
log "built in $(($(date +%s) - started)) s: $(podman image inspect localhost/memserve:test --format '{{.Size}}') bytes"

podman rm -f memserve-test >/dev/null 2>&1 || true
podman run -d --name memserve-test --shm-size 256m \
  -p 127.0.0.1:18080:8080 -p 127.0.0.1:19090:9090 localhost/memserve:test >/dev/null
cleanup() { podman rm -f memserve-test >/dev/null 2>&1 || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:19090/readyz >/dev/null && break; sleep 0.2; done

fail() { log "FAIL: $*"; podman logs memserve-test | tail -n 20; exit 1; }
curl -fs http://127.0.0.1:19090/readyz | grep -q ready || fail "/readyz is not ready"
encoding=$(curl -fs -o /dev/null -w '%header{content-encoding}' -H 'Accept-Encoding: br' http://127.0.0.1:18080/)
[ "$encoding" = br ] || fail "GET / with br: got '$encoding'"
podman logs memserve-test | grep -q "warm start from the persisted image" || fail "not a warm start"
[ "$(podman exec memserve-test id -u)" = 10001 ] || fail "not running as uid 10001"
podman healthcheck run memserve-test >/dev/null 2>&1 || fail "HEALTHCHECK failed"
stopped=$(date +%s%N)
podman stop -t 15 memserve-test >/dev/null
code=$(podman inspect memserve-test --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"
log "PASS: served br from a warm start as uid 10001, healthy, stopped with exit 0 in $((($(date +%s%N) - stopped) / 1000000)) ms"
