#!/usr/bin/env bash
# The chaos suite's private stack: its own Kafka broker, Redis and Samba DC, started with the same
# launchers as scripts/stack (tools/stack/lib) but on other ports, another loopback address and
# another state dir, so restarting them never touches the shared stack other suites use.
#
# Usage: private-stack.sh up --users N | kafka-restart | kafka-kill | redis-wipe | dc-restart KEY | down
# The caller sets CANOPY_STACK_DIR, CANOPY_STACK_KAFKA_PORT, CANOPY_STACK_KAFKA_CONTROLLER_PORT,
# CANOPY_STACK_REDIS_PORT and CANOPY_STACK_FOREST_SPECS (tools/chaos/src/private-stack.ts does).
set -euo pipefail
[ -n "${CANOPY_STACK_DIR:-}" ] && [ -n "${CANOPY_STACK_FOREST_SPECS:-}" ] || { echo "private-stack.sh: run through tools/chaos (CANOPY_STACK_DIR and CANOPY_STACK_FOREST_SPECS unset)" >&2; exit 2; }
case "$CANOPY_STACK_DIR" in */canopy-stack|*/canopy-stack/) echo "private-stack.sh: refusing to act on the shared stack's state dir" >&2; exit 2 ;; esac
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK_LIB="$HERE/../../stack/lib"
# shellcheck source=../../stack/lib/common.sh
source "$STACK_LIB/common.sh"
# shellcheck source=../../stack/lib/kafka.sh
source "$STACK_LIB/kafka.sh"
# shellcheck source=../../stack/lib/redis.sh
source "$STACK_LIB/redis.sh"
# shellcheck source=../../stack/lib/samba.sh
source "$STACK_LIB/samba.sh"

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  up) exec bash "$STACK_ROOT/bin/stack.sh" up "$@" ;;
  kafka-restart) kafka_down; kafka_up ;;
  kafka-kill)
    # SIGKILL the broker (unclean: log recovery on start), then start it again.
    if kafka_running; then kill -KILL -- "-$(pidfile_pid "$(kafka_pidfile)")" 2>/dev/null || true; sleep 0.5; fi
    rm -f "$(kafka_pidfile)"
    kafka_up ;;
  redis-wipe) redis_down; rm -rf "$REDIS_DIR/data"; redis_up ;;
  dc-restart)
    key=${1:?dc-restart needs a forest key}
    forest_vars "$key"
    pid=$(pidfile_pid "$(forest_pidfile "$key")" || true)
    forest_stop "$key"
    # Samba's worker processes may outlive the main one for a moment: wait until LDAP is free.
    for _ in $(seq 1 100); do port_open "$F_IP" 636 || port_open "$F_IP" 389 || break; sleep 0.3; done
    if port_open "$F_IP" 636 || port_open "$F_IP" 389; then
      [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null || true
      # Workers of this DC only (their command line names its own smb.conf in the private state dir).
      for p in $(pgrep -f -- "samba -s $F_CONF" || true); do kill -KILL "$p" 2>/dev/null || true; done
      sleep 1
    fi
    forest_start "$key" ;;
  down) for k in $(forest_keys); do forest_stop "$k"; done; redis_down; kafka_down ;;
  *) echo "usage: private-stack.sh up --users N | kafka-restart | kafka-kill | redis-wipe | dc-restart KEY | down" >&2; exit 2 ;;
esac
