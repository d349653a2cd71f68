#!/usr/bin/env bash
# The local stack: Kafka (KRaft), Redis and two Samba AD DC forests on one machine.
# Entry point: scripts/stack. See docs/local-stack.md.
set -euo pipefail

# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=../lib/kafka.sh
source "$STACK_ROOT/lib/kafka.sh"
# shellcheck source=../lib/redis.sh
source "$STACK_ROOT/lib/redis.sh"
# shellcheck source=../lib/samba.sh
source "$STACK_ROOT/lib/samba.sh"

usage() {
  cat <<EOF
Usage: scripts/stack <command> [options]

Commands:
  up       Install what is missing, start Kafka, Redis and the Samba forests, seed unseeded
           forests, write stack.json, print status. A no-op on a healthy stack.
  down     Stop what 'up' started (by pid files). Data stays.
  status   Every component with its address and health (exit 1 when one is down); --json
  reset    Stop, wipe all data (Kafka, Redis, forests), then 'up' again.
  seed     (Re)seed forests with the deterministic directory.
  bench-seed  Seed a throwaway forest (127.0.0.9) and print the rate; the stack is untouched.

Options (up, reset, seed):
  --users N        users per forest (default ${CANOPY_STACK_USERS:-1000}; up to 50,000 and beyond)
  --seed S         PRNG seed (default 1)
  --forest KEY     only this forest (seed): $(forest_keys | tr '\n' ' ')
  --ldap           seed through LDAP (parallel ldapts connections) instead of the offline loader
  --concurrency C  LDAP connections for --ldap (default 4)
  --no-seed        up/reset: do not seed
  --no-cache       seed for real even when a seeded copy of the forest is cached
                   (~/.cache/canopy/samba-seeds, keyed by options, versions and sources)

State: $STATE_DIR  (CANOPY_STACK_DIR)
Cache: $CACHE_DIR  (Kafka jars, Node)
Kafka $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT), Redis $REDIS_HOST:$REDIS_PORT,
Samba: corp.example.test on 127.0.0.2, fabrikam.example.test on 127.0.0.3 (LDAP 389, LDAPS 636, GC 3268/3269)
EOF
}

OPT_USERS=${CANOPY_STACK_USERS:-1000}
OPT_SEED=1
OPT_EXPLICIT=0   # --users/--seed given: 'up' then insists on exactly that directory
OPT_FOREST=
OPT_METHOD=offline
OPT_CONCURRENCY=4
OPT_NO_SEED=0
OPT_JSON=0
OPT_NO_CACHE=${CANOPY_STACK_NO_CACHE:-0}

parse_opts() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --users) OPT_USERS=${2:?--users needs a number}; OPT_EXPLICIT=1; shift 2 ;;
      --users=*) OPT_USERS=${1#*=}; OPT_EXPLICIT=1; shift ;;
      --seed) OPT_SEED=${2:?--seed needs a number}; OPT_EXPLICIT=1; shift 2 ;;
      --seed=*) OPT_SEED=${1#*=}; OPT_EXPLICIT=1; shift ;;
      --forest) OPT_FOREST=${2:?--forest needs a name}; shift 2 ;;
      --forest=*) OPT_FOREST=${1#*=}; shift ;;
      --ldap) OPT_METHOD=ldap; shift ;;
      --concurrency) OPT_CONCURRENCY=${2:?}; shift 2 ;;
      --no-seed) OPT_NO_SEED=1; shift ;;
      --no-cache) OPT_NO_CACHE=1; shift ;;
      --json) OPT_JSON=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
  done
  [[ "$OPT_USERS" =~ ^[0-9]+$ ]] || die "--users must be a number"
  [[ "$OPT_SEED" =~ ^[0-9]+$ ]] || die "--seed must be a number"
  if [ -n "$OPT_FOREST" ]; then
    local k found=0
    for k in $(forest_keys); do
      forest_vars "$k"
      if [ "$OPT_FOREST" = "$k" ] || [ "$OPT_FOREST" = "$F_REALM" ]; then OPT_FOREST=$k; found=1; fi
    done
    [ $found = 1 ] || die "unknown forest '$OPT_FOREST' (known: $(forest_keys | tr '\n' ' '))"
  fi
}

selected_forests() { if [ -n "$OPT_FOREST" ]; then echo "$OPT_FOREST"; else forest_keys; fi; }

write_info() {
  local f k realm nb ip host forests=""
  for f in "${FORESTS[@]}"; do
    IFS='|' read -r k realm nb ip host <<< "$f"
    forests+="$k|$realm|$nb|$ip|$host;"
  done
  CANOPY_STACK_FORESTS="$forests" CANOPY_KAFKA_HOST=$KAFKA_HOST CANOPY_KAFKA_PORT=$KAFKA_PORT \
    CANOPY_KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT CANOPY_REDIS_HOST=$REDIS_HOST CANOPY_REDIS_PORT=$REDIS_PORT \
    CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts write-info
}

# Seed one forest unless it already holds this exact directory. The offline loader needs the DC
# stopped (it writes sam.ldb directly), so the DC restarts around it.
seed_forest() { # key [keep-any]
  local key=$1 state t snap
  forest_vars "$key"
  state=$(CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts seed-status --forest "$key" --users "$OPT_USERS" --seed "$OPT_SEED")
  if [ "$state" = current ]; then log "$key: already seeded with $OPT_USERS users (seed $OPT_SEED)"; return 0; fi
  # 'up' without --users/--seed keeps whatever directory a forest already holds (e.g. after
  # `seed --users 50000`); only an unseeded forest gets the default.
  if [ "${2:-}" = keep-any ] && [ "$state" = other ]; then log "$key: keeping its seeded directory (seed.json)"; return 0; fi
  t=$(now_ms)
  snap=$(seed_snapshot_path "$key")
  if [ "$OPT_METHOD" = offline ] && [ $OPT_NO_CACHE = 0 ] && [ -f "$snap" ]; then
    forest_restore "$key" "$snap"
    forest_start "$key"
    write_info
    ok "$key: restored the seeded forest ($OPT_USERS users) from the cache in $(secs_since "$t") s"
    return 0
  fi
  if [ "$state" = other ]; then
    log "$key: holds another seed; re-provisioning the forest first"
    forest_wipe "$key"
    forest_provision "$key"
    write_info
  fi
  if [ "$OPT_METHOD" = offline ]; then
    forest_stop "$key"
    CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts seed --forest "$key" --users "$OPT_USERS" --seed "$OPT_SEED" --method offline \
      || { forest_start "$key"; die "$key: seeding failed (nothing was committed)"; }
    if [ $OPT_NO_CACHE = 0 ]; then
      # Keep a copy of the seeded DC (passwords and keys included: the cache dir is mode 700) so
      # later up/reset/seed with the same options restore it in a second or two.
      local tc; tc=$(now_ms)
      mkdir -p "$(dirname "$snap")"; chmod 700 "$(dirname "$snap")"
      if (umask 077; tar --sparse --warning=no-file-ignored -czf "$snap.partial" -C "$FORESTS_DIR" "$key"); then
        # Copies of this forest made from other sources/versions can never be restored again.
        find "$(dirname "$snap")" -maxdepth 1 -name "$key-u*-s*-*.tar.gz" ! -name "*-$(seed_sources_hash).tar.gz" -delete
        mv "$snap.partial" "$snap"; log "$key: cached the seeded forest in $(secs_since "$tc") s"
      else
        rm -f "$snap.partial"; warn "$key: could not cache the seeded forest"
      fi
    fi
    forest_start "$key"
  else
    forest_start "$key"
    CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts seed --forest "$key" --users "$OPT_USERS" --seed "$OPT_SEED" \
      --method ldap --concurrency "$OPT_CONCURRENCY" || die "$key: LDAP seeding failed"
  fi
  write_info
  ok "$key: seeded in $(secs_since "$t") s (including DC restart)"
}

# Run FUNC KEY for each forest: one after the other by default. CANOPY_STACK_PARALLEL=1 runs
# them at the same time; measured on this 2-core machine that was SLOWER (2 x 1,000 users:
# 55 s parallel vs 46 s one after the other, provisioning 30 s vs 12 + 9 s), so it is opt-in.
parallel_forests() { # func key...
  local func=$1; shift
  local k
  if [ "${CANOPY_STACK_PARALLEL:-0}" != 1 ]; then
    for k in "$@"; do "$func" "$k"; done
    return 0
  fi
  local pids=() rc=0 pid
  for k in "$@"; do
    ( "$func" "$k" ) &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc = 0 ] || die "a forest failed (see its messages above)"
}

# Restore a cached seeded copy when there is one and the forest is new, then start it.
forest_bringup() { # key
  local k=$1 t snap
  t=$(now_ms)
  forest_vars "$k"
  snap=$(seed_snapshot_path "$k")
  if [ ! -f "$F_DIR/.provisioned" ] && [ $OPT_NO_SEED = 0 ] && [ $OPT_NO_CACHE = 0 ] && [ "$OPT_METHOD" = offline ] && [ -f "$snap" ]; then
    forest_restore "$k" "$snap"
    log "$k: restored a seeded copy ($OPT_USERS users) from the cache"
  fi
  forest_up "$k"
  secs_since "$t" > "$STATE_DIR/.took-samba-$k"
  ok "samba $k up in $(cat "$STATE_DIR/.took-samba-$k") s"
}

seed_forest_timed() { # key
  local t; t=$(now_ms)
  seed_forest "$1" "$([ $OPT_EXPLICIT = 1 ] || echo keep-any)"
  secs_since "$t" > "$STATE_DIR/.took-seed-$1"
}

forest_restore() { # key snapshot
  forest_vars "$1"
  forest_stop "$1"
  # Extract beside, then swap: an interrupted restore never leaves a half-restored forest.
  local tmp="$FORESTS_DIR/.restore-$1"
  rm -rf "$tmp"; mkdir -p "$tmp"
  tar -xzf "$2" -C "$tmp" || { rm -rf "$tmp"; die "$1: cannot restore $2"; }
  rm -rf "${F_DIR:?}"
  mv "$tmp/$1" "$F_DIR"
  rm -rf "$tmp"
}

# Where a seeded copy of forest KEY is cached. The key covers everything that shapes the data:
# options, Samba version, the state dir (smb.conf holds absolute paths) and our own provisioning,
# loader and model sources.
seed_sources_hash() {
  { echo "$STATE_DIR|${CANOPY_SAMBA_BACKEND:-}"; samba --version; cat "$STACK_ROOT/lib/samba.sh" "$STACK_ROOT/lib/ldb_load.py" \
      "$STACK_ROOT/src/seed/model.ts" "$STACK_ROOT/src/seed/names.ts"; } | sha256sum | cut -c1-16
}
seed_snapshot_path() { # key
  echo "$CACHE_DIR/samba-seeds/$1-u$OPT_USERS-s$OPT_SEED-$(seed_sources_hash).tar.gz"
}

stack_healthy() { [ -f "$STATE_DIR/stack.json" ] && CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts health >/dev/null 2>&1; }

cmd_status() {
  if [ ! -f "$STATE_DIR/stack.json" ]; then log "no stack in $STATE_DIR (run: scripts/stack up)"; return 1; fi
  ensure_node
  if [ $OPT_JSON = 1 ]; then CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts health --json; return $?; fi
  local k
  printf '  %-16s %s\n' "kafka" "$(kafka_running && echo "pid $(pidfile_pid "$(kafka_pidfile)")" || echo 'not running')"
  printf '  %-16s %s\n' "redis" "$(redis_running && echo "pid $(pidfile_pid "$(redis_pidfile)")" || echo 'not running')"
  for k in $(forest_keys); do
    printf '  %-16s %s\n' "samba $k" "$(forest_running "$k" && echo "pid $(pidfile_pid "$(forest_pidfile "$k")")" || echo 'not running')"
  done
  CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts health
}

cmd_up() {
  mkdir -p "$STATE_DIR"
  ensure_node
  if stack_healthy && { [ $OPT_NO_SEED = 1 ] || all_seeded; }; then
    log "stack already up and healthy ($STATE_DIR)"
    cmd_status || true   # a busy DC may miss this second probe; it was healthy a moment ago
    return 0
  fi
  local t0 t k
  t0=$(now_ms)
  declare -A took=()
  local tk; tk=$(now_ms); kafka_start   # boots in the background; waited for below
  t=$(now_ms); redis_up; took[redis]=$(secs_since "$t"); ok "redis up in ${took[redis]} s"
  samba_ensure_installed
  parallel_forests forest_bringup $(forest_keys)
  for k in $(forest_keys); do took["samba $k"]=$(cat "$STATE_DIR/.took-samba-$k" 2>/dev/null || echo '?'); done
  t=$(now_ms); kafka_wait; took[kafka]=$(secs_since "$tk"); ok "kafka up in ${took[kafka]} s (started first, booted alongside; waited $(secs_since "$t") s)"
  write_info
  if [ $OPT_NO_SEED = 0 ]; then
    parallel_forests seed_forest_timed $(forest_keys)
    write_info   # once more, alone: the forests' own writes may have raced
    for k in $(forest_keys); do took["seed $k"]=$(cat "$STATE_DIR/.took-seed-$k" 2>/dev/null || echo '?'); done
  fi
  rm -f "$STATE_DIR"/.took-*
  echo
  log "timings:"
  local names=(kafka redis) f
  for f in $(forest_keys); do names+=("samba $f"); done
  for f in $(forest_keys); do names+=("seed $f"); done
  for k in "${names[@]}"; do
    if [ -n "${took[$k]:-}" ]; then printf '  %-16s %6s s\n' "$k" "${took[$k]}"; fi
  done
  printf '  %-16s %6s s\n' "total" "$(secs_since "$t0")"
  echo
  cmd_status || { warn "stack came up but a health check fails"; return 1; }
}

all_seeded() {
  local k st
  for k in $(forest_keys); do
    st=$(CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts seed-status --forest "$k" --users "$OPT_USERS" --seed "$OPT_SEED" 2>/dev/null || true)
    [ "$st" = current ] || { [ $OPT_EXPLICIT = 0 ] && [ "$st" = other ]; } || return 1
  done
}

cmd_down() {
  local k
  for k in $(forest_keys); do forest_stop "$k"; done
  redis_down
  kafka_down
  ok "stack stopped (data kept in $STATE_DIR)"
}

cmd_reset() {
  STOP_FAST=1 cmd_down
  local k
  kafka_wipe; redis_wipe
  for k in $(forest_keys); do forest_wipe "$k"; done
  rm -f "$STATE_DIR/stack.json"
  ok "wiped $STATE_DIR"
  cmd_up
}

seed_one() { forest_up "$1"; seed_forest "$1"; }

cmd_seed() {
  mkdir -p "$STATE_DIR"
  ensure_node
  [ -f "$STATE_DIR/stack.json" ] || die "no stack in $STATE_DIR (run: scripts/stack up)"
  samba_ensure_installed
  parallel_forests seed_one $(selected_forests)
  write_info
}

# One mutating command at a time per state dir (tests may call 'up' from several processes).
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  if ! flock -n 9; then
    log "another scripts/stack command holds $STATE_DIR/.lock; waiting (up to 15 min) ..."
    flock -w 900 9 || die "gave up waiting for $STATE_DIR/.lock"
  fi
}

# Seed a throwaway forest (127.0.0.9, state under $STATE_DIR/bench) and report the rate; the
# stack itself is not touched. For measuring: scripts/stack bench-seed --users 10000 [--ldap]
cmd_bench_seed() {
  mkdir -p "$STATE_DIR"
  ensure_node
  samba_ensure_installed
  local spec="bench|bench.example.test|BENCH|127.0.0.9|benchdc" t total
  FORESTS+=("$spec")
  FORESTS_DIR="$STATE_DIR/bench"
  forest_vars bench
  trap 'forest_stop bench; rm -rf "${FORESTS_DIR:?}"' EXIT
  forest_provision bench
  total=$(now_ms)
  if [ "$OPT_METHOD" = ldap ]; then forest_start bench; fi
  CANOPY_STACK_DIR="$STATE_DIR" run_ts cli.ts seed --spec "$spec" --dir "$F_DIR" --users "$OPT_USERS" --seed "$OPT_SEED" \
    --method "$OPT_METHOD" --concurrency "$OPT_CONCURRENCY" || die "bench seeding failed"
  t=$(now_ms)
  forest_start bench
  local start_s; start_s=$(secs_since "$t")
  local n
  n=$(LDAPTLS_CACERT="$F_DIR/ca.pem" ldapsearch -x -LLL -H "ldaps://$F_IP:636" -D "Administrator@$F_REALM" -y "$F_DIR/admin.password" \
      -E pr=1000/noprompt -b "OU=Canopy,$F_BASE" '(&(objectCategory=person)(objectClass=user))' dn 2>/dev/null | grep -c '^dn:' || true)
  ok "bench: $n users readable over LDAPS; seeding + DC start took $(secs_since "$total") s (DC start with this DB: $start_s s)"
  [ "$n" = "$OPT_USERS" ] || die "bench: expected $OPT_USERS users, found $n"
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case "$cmd" in up|down|reset|seed) take_lock ;; esac
  case "$cmd" in
    up) parse_opts "$@"; cmd_up ;;
    down) parse_opts "$@"; cmd_down ;;
    status) parse_opts "$@"; cmd_status ;;
    reset) parse_opts "$@"; cmd_reset ;;
    seed) parse_opts "$@"; cmd_seed ;;
    bench-seed) parse_opts "$@"; cmd_bench_seed ;;
    -h|--help|help|"") usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

# One line, so bash has read it whole before running (the file may change under a running script).
main "$@"; exit $?
