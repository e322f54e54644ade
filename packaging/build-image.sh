#!/usr/bin/env bash
# Builds Sigil's container image with buildah, which needs no registry and no daemon: the static
# binary (pure Go, CGO_ENABLED=0) on an empty base, run as a non-root user, with the data
# folder a volume. Writes an OCI archive (default sigil-image.tar); load it with
# `podman load -i`, `docker load -i`, or `skopeo copy oci-archive:… docker://…`.
#
#   packaging/build-image.sh [out.tar]
#
# Run it as root (or in a user namespace buildah can use); storage is vfs, isolation chroot,
# so it works in CI containers without fuse or overlay.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-sigil-image.tar}")
work=$(mktemp -d)
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
ctr=""
cleanup() {
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -buildvcs=auto -trimpath -ldflags "-s -w" -o "$work/sigil" ./cmd/sigil
mkdir -p "$work/data"

ctr=$(buildah from scratch)
buildah copy --chmod 0755 "$ctr" "$work/sigil" /sigil >/dev/null
buildah copy --chown 65532:65532 "$ctr" "$work/data" /data >/dev/null
buildah config \
  --entrypoint '["/sigil"]' \
  --cmd '["serve", "--config", "/etc/sigil/sigil.yaml"]' \
  --user 65532:65532 \
  --env SIGIL_DATA_DIR=/data \
  --env SIGIL_LISTEN=0.0.0.0:8443 \
  --volume /data \
  --port 8443 \
  --label org.opencontainers.image.title=sigil \
  --label org.opencontainers.image.source=https://github.com/sigil-idp/sigil \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  "$ctr"
buildah commit --quiet "$ctr" "oci-archive:$out" >/dev/null
echo "$out"
