#!/usr/bin/env bash
# Sourced after ensure-node.sh: installs the workspace's npm dependencies when package-lock.json
# or a workspace package.json changed since the last install (or node_modules is missing). Idempotent and quick when current.
set -euo pipefail
_canopy_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_canopy_stamp="$_canopy_root/node_modules/.canopy-lock-sha256"
_canopy_deps_hash() { (cd "$_canopy_root" && cat package-lock.json package.json */*/package.json 2>/dev/null; node --version) | sha256sum | cut -d' ' -f1; }
if [ ! -f "$_canopy_stamp" ] || [ "$(cat "$_canopy_stamp")" != "$(_canopy_deps_hash)" ]; then
  echo "ensure-deps: installing npm dependencies" >&2
  # npm install (not ci) so a new workspace project is linked; the lock file pins every version.
  (cd "$_canopy_root" && npm install --no-audit --no-fund --loglevel=error)
  _canopy_deps_hash > "$_canopy_stamp"
fi
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-}"
