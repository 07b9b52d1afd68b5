#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with Node 20 lacks: Debian's fuse package (libfuse.so.2
# and fusermount, which fuse-native needs) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v fusermount >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2'; then
  echo "Installing Debian's fuse package (libfuse2 + fusermount)…" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq fuse >/dev/null
fi

if [ ! -e /dev/fuse ]; then
  echo "warning: /dev/fuse is missing; mounting needs it (in a container: --device /dev/fuse --cap-add SYS_ADMIN)" >&2
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
