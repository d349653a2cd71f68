# Redis from Debian's redis-server package, own config and data under the state dir (not systemd).
# shellcheck shell=bash

REDIS_DIR="$STATE_DIR/redis"

redis_pidfile() { echo "$REDIS_DIR/redis.pid"; }
redis_running() { pid_alive "$(redis_pidfile)"; }
redis_ping() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_up() {
  if redis_running && redis_ping; then log "redis: already running"; return 0; fi
  ensure_apt redis-server redis-server redis-tools
  redis_running && stop_pidfile "$(redis_pidfile)" redis
  ensure_port_free "$REDIS_HOST" "$REDIS_PORT" redis
  mkdir -p "$REDIS_DIR/data"
  cat > "$REDIS_DIR/redis.conf" <<EOF
# Written by scripts/stack.
bind $REDIS_HOST
port $REDIS_PORT
protected-mode yes
daemonize no
dir $REDIS_DIR/data
dbfilename dump.rdb
save 60 1000
appendonly no
maxmemory 256mb
maxmemory-policy noeviction
loglevel notice
EOF
  start_detached "$(redis_pidfile)" "$REDIS_DIR/redis.log" redis-server "$REDIS_DIR/redis.conf"
  local rc=0
  wait_for 20 redis "$(redis_pidfile)" redis_ping || rc=$?
  [ $rc = 0 ] || { stop_pidfile "$(redis_pidfile)" redis; fail_with_log "redis: did not start on $REDIS_HOST:$REDIS_PORT" "$REDIS_DIR/redis.log"; }
}

redis_down() { stop_pidfile "$(redis_pidfile)" redis; }
redis_wipe() { redis_down; rm -rf "$REDIS_DIR"; }
