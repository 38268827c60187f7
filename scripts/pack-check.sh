#!/usr/bin/env bash
# Packs the module with its prebuilt addon, installs the tarball into an empty
# project with no compiler on PATH, and checks that require() and import both
# load the prebuild and that an encrypted round trip works.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

npm run prebuilds >/dev/null
test -f prebuilds/linux-x64/nomyo.node
tarball=$(npm pack --silent | tail -n 1)
# grep -q would close the pipe early and fail `tar` under pipefail: list first.
contents=$(tar -tzf "$tarball")
grep -qx 'package/prebuilds/linux-x64/nomyo.node' <<<"$contents" || { echo "the tarball has no prebuild" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work" "$root/$tarball"' EXIT
# A PATH with node, npm and sh only: no cc, c++, make, python3 or cmake.
mkdir -p "$work/bin" "$work/app"
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
for tool in cc gcc g++ c++ make python3 cmake; do
  if PATH="$work/bin" command -v "$tool" >/dev/null 2>&1; then echo "compiler $tool still reachable" >&2; exit 1; fi
done

cd "$work/app"
PATH="$work/bin" npm init -y >/dev/null
PATH="$work/bin" npm install --no-audit --no-fund "$root/$tarball" >/dev/null
test ! -d node_modules/nomyo/build || { echo "the install compiled the addon instead of using the prebuild" >&2; exit 1; }
cp "$root/scripts/pack-check-app.cjs" app.cjs
cp "$root/scripts/pack-check-app.mjs" app.mjs
PATH="$work/bin" node app.cjs
PATH="$work/bin" node app.mjs
echo "pack check passed"
