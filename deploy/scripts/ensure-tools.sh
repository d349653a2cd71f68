#!/usr/bin/env bash
# Builds/fetches the tools that deploy/test needs, into a cache outside the repo, when missing.
# Idempotent and safe to run concurrently (flock). Everything comes from the Go module proxy:
#   helm        helm.sh/helm/v3/cmd/helm                      (go install)
#   kubeconform github.com/yannh/kubeconform/cmd/kubeconform  (go install)
#   Kubernetes JSON schemas: generated from api/openapi-spec/swagger.json inside the module
#     k8s.io/kubernetes (go mod download), plus the CRDs ServiceMonitor (prometheus-operator module)
#     and ScaledObject (KEDA module), by deploy/scripts/openapi2jsonschema.mjs
#   compose-spec.json: schema/compose-spec.json inside github.com/compose-spec/compose-go/v2
# Prints KEY=VALUE lines on stdout (HELM, KUBECONFORM, SCHEMA_DIR, SCHEMA_LOCATION, COMPOSE_SCHEMA,
# K8S_VERSION); progress goes to stderr. Exits non-zero when a tool cannot be obtained.
set -euo pipefail

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
K8S_VERSION=v1.36.3
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion): manifests are validated
# against both.
K8S_MIN_VERSION=v1.29.6
PROMETHEUS_OPERATOR_VERSION=v0.85.0
KEDA_VERSION=v2.21.0
COMPOSE_GO_VERSION=v2.16.2

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${CANOPY_TOOLS_CACHE:-$HOME/.cache/canopy}"
bin="$cache/bin"
mkdir -p "$bin"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing required command: $1"; exit 1; }; }
need go
need node

exec 9>"$cache/.ensure-tools.lock"
flock 9

export GOFLAGS="${GOFLAGS:--mod=mod}"
export CGO_ENABLED=0
# Keep Go's own caches outside the repo too (they default to $HOME/go and $HOME/.cache/go-build).

# go_install NAME PACKAGE VERSION -> $bin/NAME (a symlink to a versioned binary)
go_install() {
  local name="$1" pkg="$2" version="$3"
  local dir="$cache/tools/$name-$version"
  if [ ! -x "$dir/$name" ]; then
    log "building $name $version from $pkg (go install; takes minutes the first time)"
    local t0=$SECONDS
    mkdir -p "$dir"
    GOBIN="$dir" go install -ldflags="-s -w" "$pkg@$version" >&2
    log "built $name in $((SECONDS - t0))s"
  fi
  ln -sfn "$dir/$name" "$bin/$name"
}

# mod_dir MODULE VERSION -> prints the module's directory in the module cache (downloads it)
mod_dir() {
  local dir
  dir="$(cd "$cache" && GOFLAGS= go mod download -json "$1@$2" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);if(j.Error){console.error(j.Error);process.exit(1)}console.log(j.Dir)})')"
  [ -d "$dir" ] || { log "module $1@$2 has no directory"; exit 1; }
  printf '%s\n' "$dir"
}

go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"

# schemas VERSION -> prints the folder of that version's standalone strict schemas (+ CRDs)
schemas() {
  local version="$1"
  local dir="$cache/k8s-schemas/$version-standalone-strict"
  local stamp="$dir/.complete-$PROMETHEUS_OPERATOR_VERSION-$KEDA_VERSION-$(sha256sum "$here/openapi2jsonschema.mjs" | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    local t0=$SECONDS k8s_dir po_dir keda_dir
    log "fetching k8s.io/kubernetes@$version for its OpenAPI spec"
    k8s_dir="$(mod_dir k8s.io/kubernetes "$version")"
    log "fetching CRDs: prometheus-operator $PROMETHEUS_OPERATOR_VERSION, KEDA $KEDA_VERSION"
    po_dir="$(mod_dir github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION")"
    keda_dir="$(mod_dir github.com/kedacore/keda/v2 "$KEDA_VERSION")"
    rm -rf "$dir"
    mkdir -p "$dir"
    node "$here/openapi2jsonschema.mjs" \
      --out "$dir" \
      --swagger "$k8s_dir/api/openapi-spec/swagger.json" \
      --crd "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
      --crd "$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
      --crd "$keda_dir/config/crd/bases/keda.sh_scaledobjects.yaml" \
      --crd "$keda_dir/config/crd/bases/keda.sh_triggerauthentications.yaml" >&2
    touch "$stamp"
    log "schemas for $version generated in $((SECONDS - t0))s"
  fi
  printf '%s\n' "$dir"
}
schema_dir="$(schemas "$K8S_VERSION")"
schema_min_dir="$(schemas "$K8S_MIN_VERSION")"

compose_dir="$(mod_dir github.com/compose-spec/compose-go/v2 "$COMPOSE_GO_VERSION")"
compose_schema="$compose_dir/schema/compose-spec.json"
[ -f "$compose_schema" ] || { log "no compose-spec.json in $compose_dir"; exit 1; }

echo "HELM=$bin/helm"
echo "KUBECONFORM=$bin/kubeconform"
echo "K8S_VERSION=${K8S_VERSION#v}"
echo "SCHEMA_DIR=$schema_dir"
echo "SCHEMA_LOCATION=$schema_dir/{{ .ResourceKind }}{{ .KindSuffix }}.json"
echo "K8S_MIN_VERSION=${K8S_MIN_VERSION#v}"
echo "SCHEMA_MIN_LOCATION=$schema_min_dir/{{ .ResourceKind }}{{ .KindSuffix }}.json"
echo "COMPOSE_SCHEMA=$compose_schema"
