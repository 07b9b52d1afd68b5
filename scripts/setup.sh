#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with Node 20 lacks: Debian's fuse package (libfuse.so.2
# and fusermount, which fuse-native needs) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# With --test: also faketime, with which a test moves the daemon's clock to just before an hour ends.
packages=()
if ! command -v fusermount >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2'; then
  packages+=(fuse)
fi
if [ "${1:-}" = "--test" ] && ! command -v faketime >/dev/null 2>&1; then
  packages+=(faketime)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${packages[*]}…" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ ! -e /dev/fuse ]; then
  echo "warning: /dev/fuse is missing; mounting needs it (in a container: --device /dev/fuse --cap-add SYS_ADMIN)" >&2
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
