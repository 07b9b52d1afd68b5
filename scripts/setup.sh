#!/usr/bin/env bash
# Installs what a Debian or Ubuntu machine with Node 20 lacks for bqlogfs, and nothing else: libfuse 2
# (libfuse.so.2, which fuse-native links), a fusermount program, and the npm dependencies.
#
# It never installs Debian's `fuse` package: that package conflicts with `fuse3`, so installing it
# would remove sshfs, fuse-overlayfs, flatpak, ntfs-3g or gvfs-fuse. `libfuse2` alone provides the
# library and sits next to fuse3. For the fusermount program, fuse3's `fusermount3` is as good as
# fuse 2's `fusermount` (bqlogfs runs whichever the host has), so `fuse3` is installed only when
# neither exists.
#
#   --test             also faketime, with which a test moves the daemon's clock to just before an hour ends
#   --print-packages   print the Debian packages this machine lacks, one a line, and change nothing
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=false
print_only=false
for argument in "$@"; do
  case "$argument" in
  --test) with_test=true ;;
  --print-packages) print_only=true ;;
  *)
    echo "usage: scripts/setup.sh [--test] [--print-packages]" >&2
    exit 2
    ;;
  esac
done

has_command() { command -v "$1" >/dev/null 2>&1; }

has_libfuse2() {
  local ldconfig=ldconfig
  # ldconfig lives in /sbin, which a user's PATH may lack.
  if ! has_command ldconfig && [ -x /sbin/ldconfig ]; then ldconfig=/sbin/ldconfig; fi
  # grep reads it all (no -q): under pipefail, ldconfig cut off by an early exit would fail the test.
  "$ldconfig" -p 2>/dev/null | grep 'libfuse\.so\.2 ' >/dev/null
}

packages=()
if ! has_libfuse2; then packages+=(libfuse2); fi
if ! has_command fusermount && ! has_command fusermount3; then packages+=(fuse3); fi
if $with_test && ! has_command faketime; then packages+=(faketime); fi
# The tests need the patched fuse-native (patches/README.md), which npm ci builds with these; without
# them `npm start` and an install still work, with the prebuilt binding and a warning.
if $with_test; then
  for tool in make g++ python3; do
    if ! has_command "$tool"; then packages+=("$tool"); fi
  done
fi

if $print_only; then
  if [ ${#packages[@]} -gt 0 ]; then printf '%s\n' "${packages[@]}"; fi
  exit 0
fi

if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${packages[*]}…" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  # --no-remove: should apt ever want to remove a package to install these, fail instead.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-remove "${packages[@]}" >/dev/null
fi

if [ ! -e /dev/fuse ]; then
  echo "warning: /dev/fuse is missing; mounting needs it (in a container: --device /dev/fuse --cap-add SYS_ADMIN)" >&2
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# fuse-native, patched so that a reader killed while its request waits for BigQuery is let go at once
# (patches/README.md): the same script as the package's postinstall, which `npm ci` ran already, so
# this only checks the binding. A failed build warns and keeps the prebuilt binding.
node scripts/patch-fuse-native.js
