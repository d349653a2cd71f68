# Apache Kafka (KRaft, one combined broker+controller node) from Maven Central jars.
# shellcheck shell=bash

KAFKA_DIR="$STATE_DIR/kafka"
# Newest first. The first that Maven resolves wins (and is remembered in the cache).
KAFKA_CANDIDATES=(${CANOPY_KAFKA_VERSION:-4.4.0 4.3.1 4.3.0 4.2.0 4.1.1 4.0.0})
LOG4J_VERSION=2.25.5
SLF4J_VERSION=2.0.17

_kafka_pom() { # version
  cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.canopy.stack</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$1</version></dependency>
    <!-- Kafka 4 logs through slf4j to log4j2; the Maven artifacts leave the binding to the user. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
}

# Sets KAFKA_VERSION and KAFKA_LIBS; resolves jars with Maven when not cached.
kafka_ensure_jars() {
  local v
  if [ -f "$CACHE_DIR/kafka-version" ] && [ -z "${CANOPY_KAFKA_VERSION:-}" ]; then
    v=$(cat "$CACHE_DIR/kafka-version")
    if [ -f "$CACHE_DIR/kafka-$v/.complete" ]; then
      KAFKA_VERSION=$v; KAFKA_LIBS="$CACHE_DIR/kafka-$v/libs"; return 0
    fi
  fi
  command -v java >/dev/null 2>&1 || ensure_apt java openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || ensure_apt mvn maven
  mkdir -p "$CACHE_DIR"
  for v in "${KAFKA_CANDIDATES[@]}"; do
    local dir="$CACHE_DIR/kafka-$v"
    if [ -f "$dir/.complete" ]; then
      KAFKA_VERSION=$v; KAFKA_LIBS="$dir/libs"; echo "$v" > "$CACHE_DIR/kafka-version"; return 0
    fi
    local t; t=$(now_ms)
    log "resolving org.apache.kafka:kafka_2.13:$v and dependencies with Maven into $dir ..."
    rm -rf "$dir.partial"; mkdir -p "$dir.partial"
    _kafka_pom "$v" > "$dir.partial/pom.xml"
    if mvn -B -q -f "$dir.partial/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$dir.partial/libs" >"$dir.partial/mvn.log" 2>&1; then
      # slf4j 1.7 comes in transitively next to the 2.x we pin; keep only one.
      find "$dir.partial/libs" -name 'slf4j-api-1.*.jar' -delete
      touch "$dir.partial/.complete"
      rm -rf "$dir"; mv "$dir.partial" "$dir"
      echo "$v" > "$CACHE_DIR/kafka-version"
      KAFKA_VERSION=$v; KAFKA_LIBS="$dir/libs"
      log "Kafka $v: $(ls "$KAFKA_LIBS" | wc -l) jars resolved in $(secs_since "$t") s"
      return 0
    fi
    warn "Kafka $v did not resolve (see $dir.partial/mvn.log); trying the next version"
  done
  die "no Kafka version in (${KAFKA_CANDIDATES[*]}) could be resolved from Maven Central"
}

_kafka_java() { # main-class args...
  local main=$1; shift
  java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$KAFKA_LIBS/*" "$main" "$@"
}

_kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  cat > "$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/stack. Single node: broker and KRaft controller in one process.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=67108864
# Largest record batch (CANOPY_STACK_KAFKA_MESSAGE_MAX_BYTES; Kafka's default about 1 MB).
message.max.bytes=${CANOPY_STACK_KAFKA_MESSAGE_MAX_BYTES:-1048588}
num.network.threads=2
num.io.threads=2
EOF
  cat > "$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $KAFKA_DIR/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.controller.name = kafka.controller
logger.controller.level = WARN
EOF
}

kafka_pidfile() { echo "$KAFKA_DIR/kafka.pid"; }
kafka_running() { pid_alive "$(kafka_pidfile)"; }

# A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what StorageTool
# random-uuid prints), not starting with '-'. Saves a JVM start.
_kafka_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [ "${id:0:1}" != "-" ] && { echo "$id"; return; }
  done
}

# Start the broker without waiting for it (kafka_wait does): it boots while the forests come up.
kafka_start() {
  if kafka_running && port_open "$KAFKA_HOST" "$KAFKA_PORT"; then log "kafka: already running"; return 0; fi
  kafka_running && stop_pidfile "$(kafka_pidfile)" kafka
  ensure_port_free "$KAFKA_HOST" "$KAFKA_PORT" kafka
  ensure_port_free "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" "kafka controller"
  kafka_ensure_jars
  mkdir -p "$KAFKA_DIR"
  _kafka_write_config
  if [ ! -f "$KAFKA_DIR/data/meta.properties" ]; then
    local cid; cid=$(_kafka_cluster_id)
    echo "$cid" > "$KAFKA_DIR/cluster-id"
    _kafka_java kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_DIR/server.properties" >>"$KAFKA_DIR/kafka.log" 2>&1 \
      || fail_with_log "kafka: storage format failed" "$KAFKA_DIR/kafka.log"
  fi
  echo "$KAFKA_VERSION" > "$KAFKA_DIR/version"
  start_detached "$(kafka_pidfile)" "$KAFKA_DIR/kafka.log" \
    java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -Dkafka.logs.dir="$KAFKA_DIR/logs" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

kafka_wait() {
  local rc=0
  wait_for 90 "kafka" "$(kafka_pidfile)" port_open "$KAFKA_HOST" "$KAFKA_PORT" || rc=$?
  if [ $rc != 0 ]; then
    [ -f "$KAFKA_DIR/logs/server.log" ] && tail -n 30 "$KAFKA_DIR/logs/server.log" >> "$KAFKA_DIR/kafka.log"
    stop_pidfile "$(kafka_pidfile)" kafka
    fail_with_log "kafka: did not start listening on $KAFKA_HOST:$KAFKA_PORT" "$KAFKA_DIR/kafka.log"
  fi
}

kafka_up() { kafka_start; kafka_wait; }

kafka_down() { stop_pidfile "$(kafka_pidfile)" kafka; }
kafka_wipe() { kafka_down; rm -rf "$KAFKA_DIR"; }
