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
# (patches/README.md). A failed build keeps the prebuilt binding, with which everything else works.
patch_fuse_native() {
  local dir=node_modules/fuse-native
  [ "$(uname -s)" = Linux ] || return 0
  if ! node scripts/apply-patch.js "$dir" patches/fuse-native-interrupt.patch >/dev/null; then
    echo "warning: fuse-native could not be patched; a killed reader waits for its query to end (patches/README.md)" >&2
    return 0
  fi
  if [ "$dir/build/Release/fuse.node" -nt "$dir/fuse-native.c" ] && has_patched_binding; then return 0; fi
  # npm's own node-gyp, and the headers of the running node when they are installed next to it, so
  # that nothing is downloaded.
  local node_gyp prefix
  node_gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$node_gyp" ] || node_gyp=$(command -v node-gyp || true)
  prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
  local args=(rebuild --loglevel=error)
  if [ -f "$prefix/include/node/node_api.h" ]; then args+=("--nodedir=$prefix"); fi
  echo "Building fuse-native with patches/fuse-native-interrupt.patch…" >&2
  if [ -n "$node_gyp" ] && (cd "$dir" && node "$node_gyp" "${args[@]}") >"$dir/build.log" 2>&1 && has_patched_binding; then
    return 0
  fi
  rm -rf "$dir/build"
  echo "warning: building the patched fuse-native failed (see $dir/build.log; it needs python3, make and g++);" \
    "the prebuilt binding stays, with which a killed reader waits for its query to end" >&2
}

has_patched_binding() {
  node -e 'const dir = process.argv[1];
    const load = require(require.resolve("node-gyp-build", { paths: [dir] }));
    process.exit(load(dir).fuse_native_interrupts === 1 ? 0 : 1)' "$PWD/node_modules/fuse-native" 2>/dev/null
}

patch_fuse_native
