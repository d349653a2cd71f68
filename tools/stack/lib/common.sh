# Shared helpers for scripts/stack. Sourced, never run.
# shellcheck shell=bash

STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # tools/stack
REPO_ROOT="$(cd "$STACK_ROOT/../.." && pwd)"
STATE_DIR="${CANOPY_STACK_DIR:-$HOME/.local/state/canopy-stack}"
CACHE_DIR="${CANOPY_CACHE:-$HOME/.cache/canopy}"

# Ports and forests can be changed for a second, private stack in another CANOPY_STACK_DIR (the
# chaos suite runs one so it can restart Kafka, Redis and a DC without touching the shared stack).
KAFKA_HOST=127.0.0.1
KAFKA_PORT=${CANOPY_STACK_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${CANOPY_STACK_KAFKA_CONTROLLER_PORT:-19093}
REDIS_HOST=127.0.0.1
REDIS_PORT=${CANOPY_STACK_REDIS_PORT:-16379}

# Forests: key|realm|netbios|ip|dc host name (CANOPY_STACK_FOREST_SPECS: the same, ';'-separated)
FORESTS=(
  "corp|corp.example.test|CORP|127.0.0.2|corpdc"
  "fabrikam|fabrikam.example.test|FABRIKAM|127.0.0.3|fabdc"
)
if [ -n "${CANOPY_STACK_FOREST_SPECS:-}" ]; then IFS=';' read -r -a FORESTS <<< "${CANOPY_STACK_FOREST_SPECS%;}"; fi

if [ -t 1 ]; then _c_b=$'\e[1m'; _c_g=$'\e[32m'; _c_r=$'\e[31m'; _c_y=$'\e[33m'; _c_0=$'\e[0m'; else _c_b=; _c_g=; _c_r=; _c_y=; _c_0=; fi
log()  { printf '%s[stack]%s %s\n' "$_c_b" "$_c_0" "$*"; }
ok()   { printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_g" "$*" "$_c_0"; }
warn() { printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_y" "$*" "$_c_0" >&2; }
die()  { printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_r" "$*" "$_c_0" >&2; exit 1; }

now_ms() { date +%s%3N; }
# secs_since START_MS -> "12.3"
secs_since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100)); }

# Print the last lines of a log file and fail.
fail_with_log() { # message logfile
  printf '%s[stack]%s %s%s%s\n' "$_c_b" "$_c_0" "$_c_r" "$1" "$_c_0" >&2
  if [ -f "$2" ]; then
    echo "----- last 40 lines of $2 -----" >&2
    tail -n 40 "$2" >&2
    echo "-----" >&2
  fi
  exit 1
}

# TCP port open? host port
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
# Fail early when something that is not ours already listens where a component should.
ensure_port_free() { # host port component
  if port_open "$1" "$2"; then
    die "$3: $1:$2 is already in use by another process (not started by this stack); stop it or free the port"
  fi
}

# Wait for a predicate, with dots for progress. wait_for SECONDS DESCRIPTION PIDFILE CMD...
# Fails early when the process in PIDFILE has died.
wait_for() {
  local timeout=$1 what=$2 pidfile=$3; shift 3
  local start; start=$(now_ms)
  local dots=0
  while ! "$@" >/dev/null 2>&1 || { [ -n "$pidfile" ] && ! pid_alive "$pidfile"; }; do
    if [ -n "$pidfile" ] && ! pid_alive "$pidfile"; then return 2; fi
    if [ $(( $(now_ms) - start )) -gt $((timeout * 1000)) ]; then return 1; fi
    sleep 0.3
    dots=$((dots + 1))
    if [ $((dots % 10)) -eq 0 ] && [ -t 1 ]; then printf '.'; fi
  done
  if [ $dots -ge 10 ] && [ -t 1 ]; then printf '\n'; fi
  return 0
}

# --- pid files ------------------------------------------------------------------------------------
# A pid file holds "PID STARTTIME" (starttime from /proc/PID/stat, field 22) so a recycled pid
# is never mistaken for ours.
proc_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }
write_pidfile() { echo "$2 $(proc_starttime "$2")" > "$1"; }
pid_alive() { # pidfile
  [ -f "$1" ] || return 1
  local pid st
  read -r pid st < "$1" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ -z "$st" ] || [ "$(proc_starttime "$pid")" = "$st" ]
}
pidfile_pid() { awk '{print $1}' "$1" 2>/dev/null; }
# Stop what a pid file names (the process group we started with setsid), TERM then KILL.
stop_pidfile() { # pidfile name
  local pidfile=$1 name=$2
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  local pid; pid=$(pidfile_pid "$pidfile")
  # STOP_FAST=1 (reset: the data is wiped right after): no graceful shutdown.
  local sig=TERM; [ "${STOP_FAST:-0}" = 1 ] && sig=KILL
  kill -"$sig" -- "-$pid" 2>/dev/null || kill -"$sig" "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do pid_alive "$pidfile" || break; sleep 0.1; done
  if pid_alive "$pidfile"; then
    warn "$name did not stop in 10 s; killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    sleep 0.3
  fi
  rm -f "$pidfile"
}
# Start a command detached in its own session; records its pid. start_detached PIDFILE LOGFILE CMD...
start_detached() {
  local pidfile=$1 logfile=$2; shift 2
  # 9>&-: the daemon must not inherit the stack lock (fd 9), or every later `up` waits for it.
  setsid "$@" >>"$logfile" 2>&1 < /dev/null 9>&- &
  local pid=$!
  write_pidfile "$pidfile" "$pid"
}

# --- installs -------------------------------------------------------------------------------------
_APT_UPDATED=0
# ensure_apt CMD PACKAGE... : installs whichever of the Debian packages are not installed yet
# (checked with dpkg, so a package that only ships data files is caught too), then checks CMD.
ensure_apt() {
  local cmd=$1; shift
  local missing=() p
  for p in "$@"; do
    # (no `| grep -q` under pipefail: grep exiting early would fail the pipe with SIGPIPE)
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == *"install ok installed"* ]] || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing Debian packages (${missing[*]}); installing them needs root"
    mkdir -p "$STATE_DIR"
    local t; t=$(now_ms)
    log "installing ${missing[*]} from Debian ..."
    if [ $_APT_UPDATED = 0 ]; then
      apt-get update -qq >"$STATE_DIR/apt.log" 2>&1 || fail_with_log "apt-get update failed" "$STATE_DIR/apt.log"
      _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE_DIR/apt.log" 2>&1 \
      || fail_with_log "apt-get install ${missing[*]} failed" "$STATE_DIR/apt.log"
    log "installed ${missing[*]} in $(secs_since "$t") s"
  fi
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after installing $*"
}

ensure_node() {
  # shellcheck source=/dev/null
  source "$REPO_ROOT/scripts/lib/ensure-node.sh"
  local m
  for m in ldapts ioredis; do
    if [ ! -d "$REPO_ROOT/node_modules/$m" ]; then
      log "installing npm dependencies ..."
      flock /tmp/canopy-npm.lock bash -c "source '$REPO_ROOT/scripts/lib/ensure-node.sh' && source '$REPO_ROOT/scripts/lib/ensure-deps.sh'" \
        || die "npm install failed"
      break
    fi
  done
}

# Run one of our TypeScript CLIs (Node strips the types; the hook maps ./x.js imports to ./x.ts).
run_ts() { # file args...
  local file=$1; shift
  node --no-warnings --conditions=@canopy/source --import "$STACK_ROOT/bin/ts-hooks.mjs" "$STACK_ROOT/src/$file" "$@"
}
