#!/usr/bin/env bash
# A Debian bookworm base image made from Debian's own packages, for machines that reach no
# container registry: what BASE (Containerfile) would otherwise pull as python:3.11-slim.
# Usage: container/build-base.sh TAG   (podman is $PODMAN, flags included; run as root)
set -euo pipefail
tag=$1
podman=${PODMAN:-podman}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if $podman image exists "$tag"; then
    exit 0
fi
rootfs=$(mktemp -d /var/tmp/faceid-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror"
# Behind a TLS-intercepting proxy pip, npm and apt inside the build trust only what the host
# trusts: the host's extra certificate authorities go into the image's store.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
fi
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin

tar -C "$rootfs" --numeric-owner -c . |
    $podman import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "built $tag from Debian bookworm ($mirror)"
