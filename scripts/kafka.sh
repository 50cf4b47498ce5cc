#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller in one JVM) for local development and tests.
#
# The broker is not downloaded as a tarball: its jars are resolved from Maven Central with
# scripts/kafka/pom.xml and run with the `java` on PATH (17+). No Docker needed.
#
#   scripts/kafka.sh install   resolve the jars into $IM_HOME/kafka/libs (cached)
#   scripts/kafka.sh start     install if needed, format the data dir once, start, wait until healthy
#   scripts/kafka.sh status    exit 0 if a broker answers on 127.0.0.1:$KAFKA_PORT (alias: health)
#   scripts/kafka.sh topics    create the project's topics (idempotent)
#   scripts/kafka.sh stop      SIGTERM, up to 30 s, then SIGKILL
#   scripts/kafka.sh restart   stop, then start
#   scripts/kafka.sh reset     stop and delete the data dir (jars are kept)
#   scripts/kafka.sh logs      show the tail of the broker log
#
# Every subcommand may be run repeatedly. Environment overrides:
#   IM_HOME                 state dir                        (default: <repo>/.local)
#   KAFKA_PORT              client listener port             (default: 19092)
#   KAFKA_CONTROLLER_PORT   KRaft controller listener port   (default: 19093)
#   KAFKA_HEAP_OPTS         broker heap                      (default: -Xms512m -Xmx1g)
#   KAFKA_START_TIMEOUT     seconds to wait for health       (default: 60)
#   IM_EXTRA_TOPICS         extra topics, space-separated name:partitions[:k=v,...]
set -euo pipefail

# Project topics: name:partitions[:config,config...]. Configs are key=value separated by commas;
# a comma-separated piece without '=' continues the previous value (cleanup.policy=compact,delete).
TOPICS=(
  "im.session.v1:8:cleanup.policy=delete,retention.ms=-1"
  "im.relation.v1:4:retention.ms=-1"
  "im.relation.table.v1:4:cleanup.policy=compact"
  "im.deadletter.v1:1"
)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"
POM="$SCRIPT_DIR/kafka/pom.xml"

IM_HOME="${IM_HOME:-$REPO_ROOT/.local}"
case "$IM_HOME" in /*) ;; *) IM_HOME="$PWD/$IM_HOME" ;; esac
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT=30
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

KAFKA_DIR="$IM_HOME/kafka"
LIBS_DIR="$KAFKA_DIR/libs"
CONF_DIR="$KAFKA_DIR/config"
DATA_DIR="$KAFKA_DIR/data"
SERVER_PROPS="$CONF_DIR/server.properties"
BROKER_LOG4J="$CONF_DIR/log4j2.properties"
TOOLS_LOG4J="$CONF_DIR/tools-log4j2.properties"
PID_FILE="$KAFKA_DIR/broker.pid"
LOG_FILE="$KAFKA_DIR/broker.log"      # log4j output of the broker
OUT_FILE="$KAFKA_DIR/broker.out"      # stdout/stderr of the JVM (crashes, bad options)
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
INSTALL_MARKER="$LIBS_DIR/.installed"
INSTALL_LOG="$KAFKA_DIR/install.log"
LOCK_FILE="$KAFKA_DIR/.lock"

BROKER_MAIN="kafka.Kafka"
STORAGE_MAIN="kafka.tools.StorageTool"
TOPICS_MAIN="org.apache.kafka.tools.TopicCommand"

# Same GC settings as Kafka's kafka-run-class.sh; tools get a small, fast-starting JVM.
BROKER_JVM_OPTS=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true)
TOOLS_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true)

log()  { printf '[kafka] %s\n' "$*"; }
warn() { printf '[kafka] WARNING: %s\n' "$*" >&2; }
die()  { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH"; }

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1; }

# Serialises the mutating subcommands (parallel test runners may all call `start`).
take_lock() {
  mkdir -p "$KAFKA_DIR"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"$LOCK_FILE"
  if ! flock -n 9; then
    log "another kafka.sh is running; waiting for it..."
    flock -w 300 9 || die "timed out waiting for $LOCK_FILE"
  fi
}

# ---------------------------------------------------------------------------------------------
# process / health helpers

# True if pid $1 is a live broker JVM started with our server.properties.
is_our_broker() {
  local pid="$1" args=() i
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  mapfile -d '' -t args 2>/dev/null <"/proc/$pid/cmdline" || return 1
  for ((i = 1; i < ${#args[@]}; i++)); do
    [[ "${args[i - 1]}" == "$BROKER_MAIN" && "${args[i]}" == "$SERVER_PROPS" ]] && return 0
  done
  return 1
}

# Prints the broker pid: from the pid file, else by scanning /proc (pid file lost).
broker_pid() {
  local pid=""
  [[ -f "$PID_FILE" ]] && pid="$(tr -dc '0-9' <"$PID_FILE")"
  if [[ -n "$pid" ]] && is_our_broker "$pid"; then echo "$pid"; return 0; fi
  local d
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    if is_our_broker "$pid"; then echo "$pid"; return 0; fi
  done
  return 1
}

tcp_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

# Kafka-protocol health check without starting a JVM (milliseconds): send ApiVersions v0
# (api_key 18, correlation id 7, null client id) and expect correlation id 7 and error_code 0.
api_ok() {
  local resp
  resp="$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x07\xff\xff" >&3
      head -c 10 <&3 | od -An -tx1 | tr -d " \n"' _ "$KAFKA_PORT" 2>/dev/null)" || return 1
  [[ "${resp:8:12}" == "000000070000" ]]
}

port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -n1
}

show_log_tail() {
  local n="${1:-60}"
  if [[ -s "$OUT_FILE" ]]; then
    printf -- '----- JVM output of the last start (%s) -----\n' "$OUT_FILE" >&2
    awk '/^===== .* starting /{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' "$OUT_FILE" | tail -n 20 >&2
  fi
  if [[ -s "$LOG_FILE" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$LOG_FILE" >&2
    tail -n "$n" "$LOG_FILE" >&2
  fi
  printf -- '-----\n' >&2
}

run_tool() {  # run_tool <main class> args...
  local main="$1"; shift
  java "${TOOLS_JVM_OPTS[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" "$main" "$@"
}

# ---------------------------------------------------------------------------------------------
# install

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

installed() {
  [[ -f "$INSTALL_MARKER" ]] && [[ "$(cat "$INSTALL_MARKER")" == "$(pom_hash)" ]] &&
    compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_install() {
  [[ -f "$POM" ]] || die "missing $POM"
  if installed; then
    log "Kafka $(kafka_version) jars already installed in $LIBS_DIR ($(find "$LIBS_DIR" -name '*.jar' | wc -l) jars)"
    return 0
  fi
  need mvn
  need java
  if broker_pid >/dev/null; then
    die "the jars need (re)installing but the broker is running; run '$0 stop' first"
  fi
  mkdir -p "$KAFKA_DIR"
  local tmp="$KAFKA_DIR/libs.tmp.$$" t0=$SECONDS
  rm -rf "$tmp"
  log "resolving Kafka $(kafka_version) jars from Maven Central (pom: $POM, log: $INSTALL_LOG)..."
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >"$INSTALL_LOG" 2>&1; then
    tail -n 40 "$INSTALL_LOG" >&2 || true
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full log: $INSTALL_LOG)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "mvn succeeded but kafka_2.13 jar is missing"; }
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  pom_hash >"$INSTALL_MARKER"
  log "installed $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars into $LIBS_DIR in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------
# configuration

write_file() {  # write_file <path>  (content on stdin; replaced atomically)
  cat >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

write_config() {
  mkdir -p "$CONF_DIR" "$DATA_DIR"
  write_file "$SERVER_PROPS" <<EOF
# Generated by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
# Static quorum (not --standalone): the voter set is not written into the metadata log,
# so the ports can be changed between runs without reformatting.
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA_DIR
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false

offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

num.network.threads=3
num.io.threads=8
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
EOF

  write_file "$BROKER_LOG4J" <<EOF
# Broker logging (log4j2 properties format), generated by scripts/kafka.sh.
status = warn
name = im-kafka-broker

appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $LOG_FILE
appender.file.filePattern = $LOG_FILE.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3

rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE

logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.channel.name = kafka.network.RequestChannel\$
logger.channel.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser
logger.appinfo.level = WARN
logger.metrics.name = org.apache.kafka.common.metrics
logger.metrics.level = WARN
logger.storage.name = org.apache.kafka.storage.internals
logger.storage.level = WARN
logger.unifiedlog.name = kafka.log.UnifiedLog
logger.unifiedlog.level = WARN
logger.logmanager.name = kafka.log.LogManager
logger.logmanager.level = WARN
logger.partition.name = kafka.cluster.Partition
logger.partition.level = WARN
logger.fetcher.name = kafka.server.ReplicaFetcherManager
logger.fetcher.level = WARN
logger.coordinator.name = org.apache.kafka.coordinator
logger.coordinator.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
EOF

  write_file "$TOOLS_LOG4J" <<'EOF'
# Logging for the command-line tools run by scripts/kafka.sh: warnings only, to stderr.
status = warn
name = im-kafka-tools
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# ---------------------------------------------------------------------------------------------
# start / stop / status

format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    local cid
    cid="$(sed -n 's/^cluster\.id=//p' "$DATA_DIR/meta.properties")"
    [[ -f "$CLUSTER_ID_FILE" ]] || echo "$cid" >"$CLUSTER_ID_FILE"
    log "data dir $DATA_DIR already formatted (cluster id $cid)"
    return 0
  fi
  local cid=""
  [[ -s "$CLUSTER_ID_FILE" ]] && cid="$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")"
  if [[ -z "$cid" ]]; then
    cid="$(run_tool "$STORAGE_MAIN" random-uuid | tail -n1 | tr -d '[:space:]')"
    [[ -n "$cid" ]] || die "could not generate a cluster id"
    echo "$cid" >"$CLUSTER_ID_FILE"
    log "generated cluster id $cid ($CLUSTER_ID_FILE)"
  fi
  log "formatting KRaft storage in $DATA_DIR..."
  local out
  if ! out="$(run_tool "$STORAGE_MAIN" format --cluster-id "$cid" --config "$SERVER_PROPS" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "kafka-storage format failed"
  fi
  printf '%s\n' "$out" | sed 's/^/[kafka]   /'
}

# Waits until the broker answers; fails fast if the process dies.
wait_healthy() {
  local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail
      rm -f "$PID_FILE"
      die "broker process $pid exited during startup (see $LOG_FILE / $OUT_FILE)"
    fi
    if api_ok; then return 0; fi
    sleep 0.5
  done
  return 1
}

cmd_start() {
  need java
  local pid
  if pid="$(broker_pid)"; then
    echo "$pid" >"$PID_FILE"
    if api_ok; then
      log "already running (pid $pid) and healthy on $BOOTSTRAP; nothing to do"
      return 0
    fi
    log "broker process $pid exists but does not answer yet; waiting up to ${KAFKA_START_TIMEOUT}s..."
    wait_healthy "$pid" && { log "broker (pid $pid) is healthy on $BOOTSTRAP"; return 0; }
    show_log_tail
    die "broker pid $pid is running but not healthy; try '$0 stop' (or '$0 reset')"
  fi
  rm -f "$PID_FILE"

  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if tcp_open "$port"; then
      die "port $port on 127.0.0.1 is already in use by another process ($(port_owner "$port")); set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
    fi
  done

  cmd_install
  write_config
  format_storage

  log "starting Kafka $(kafka_version) (KRaft, node 1) on $BOOTSTRAP, controller 127.0.0.1:$KAFKA_CONTROLLER_PORT"
  local t0=$SECONDS
  {
    printf '\n===== %s starting %s =====\n' "$(date '+%F %T')" "$BROKER_MAIN"
  } >>"$OUT_FILE"
  # setsid: own session, so Ctrl-C / process-group kills of the caller do not hit the broker.
  # 9>&-: do not leak the lock fd into the long-lived JVM.
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS is intentionally word-split
  setsid nohup java $KAFKA_HEAP_OPTS "${BROKER_JVM_OPTS[@]}" \
    -Dlog4j2.configurationFile="$BROKER_LOG4J" -Dkafka.logs.dir="$KAFKA_DIR" \
    -cp "$LIBS_DIR/*" "$BROKER_MAIN" "$SERVER_PROPS" </dev/null >>"$OUT_FILE" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "broker pid $pid, log $LOG_FILE; waiting for it to answer (timeout ${KAFKA_START_TIMEOUT}s)..."
  if ! wait_healthy "$pid"; then
    show_log_tail
    log "killing the unhealthy broker (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    die "broker did not become healthy within ${KAFKA_START_TIMEOUT}s"
  fi
  log "broker is healthy on $BOOTSTRAP (pid $pid, ready in $((SECONDS - t0)) s)"
}

cmd_stop() {
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$PID_FILE"
    log "broker is not running"
    return 0
  fi
  log "stopping broker (pid $pid, SIGTERM)..."
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < KAFKA_STOP_TIMEOUT * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "broker did not exit within ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  kill -0 "$pid" 2>/dev/null && die "could not stop broker pid $pid"
  rm -f "$PID_FILE"
  log "broker stopped"
}

cmd_status() {
  local pid=""
  pid="$(broker_pid)" || pid=""
  if api_ok; then
    if [[ -n "$pid" ]]; then
      log "running (pid $pid) and healthy on $BOOTSTRAP"
    else
      log "a Kafka broker answers on $BOOTSTRAP, but it was not started from $KAFKA_DIR ($(port_owner "$KAFKA_PORT"))"
    fi
    return 0
  fi
  if [[ -n "$pid" ]]; then
    log "broker process $pid is running but does not answer on $BOOTSTRAP (starting up or hung; see $LOG_FILE)"
    return 1
  fi
  log "not running (nothing answers on $BOOTSTRAP)"
  return 3
}

cmd_reset() {
  cmd_stop
  log "deleting $DATA_DIR and $CLUSTER_ID_FILE (jars in $LIBS_DIR are kept)"
  rm -rf "$DATA_DIR" "$CLUSTER_ID_FILE"
  log "reset done"
}

cmd_logs() {
  [[ -f "$LOG_FILE" ]] || die "no broker log yet ($LOG_FILE)"
  tail -n "${1:-100}" "$LOG_FILE"
}

# ---------------------------------------------------------------------------------------------
# topics

cmd_topics() {
  need java
  installed || die "Kafka jars are not installed; run '$0 start' first"
  api_ok || die "no broker answers on $BOOTSTRAP; run '$0 start' first"
  [[ -f "$TOOLS_LOG4J" ]] || write_config

  local specs=("${TOPICS[@]}") extra=()
  read -r -a extra <<<"${IM_EXTRA_TOPICS:-}"
  specs+=("${extra[@]}")

  local spec name partitions configs piece pieces names=() pids=()
  for spec in "${specs[@]}"; do
    IFS=: read -r name partitions configs <<<"$spec"
    [[ "$name" =~ ^[A-Za-z0-9._-]+$ && "$partitions" =~ ^[1-9][0-9]*$ ]] ||
      die "bad topic spec '$spec' (expected name:partitions[:key=value,...])"
  done

  local existing
  existing="$(run_tool "$TOPICS_MAIN" --bootstrap-server "$BOOTSTRAP" --list)" || die "listing topics failed"

  TOPICS_TMP="$(mktemp -d)"
  trap 'rm -rf "$TOPICS_TMP"' EXIT
  for spec in "${specs[@]}"; do
    IFS=: read -r name partitions configs <<<"$spec"
    if grep -qxF -- "$name" <<<"$existing"; then
      log "topic $name exists (left unchanged)"
      continue
    fi
    local args=(--bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name"
      --partitions "$partitions" --replication-factor 1)
    local cfgs=()
    IFS=, read -r -a pieces <<<"$configs"
    for piece in "${pieces[@]}"; do
      [[ -n "$piece" ]] || continue
      if [[ "$piece" == *=* || ${#cfgs[@]} -eq 0 ]]; then cfgs+=("$piece")
      else cfgs[${#cfgs[@]} - 1]+=",$piece"; fi
    done
    for piece in "${cfgs[@]}"; do args+=(--config "$piece"); done
    log "creating topic $name (partitions=$partitions${configs:+, $configs})"
    # Each TopicCommand is a JVM (~1.5 s), so the creations run in parallel.
    run_tool "$TOPICS_MAIN" "${args[@]}" >"$TOPICS_TMP/${#names[@]}.log" 2>&1 &
    pids+=($!)
    names+=("$name")
  done

  local i failed=0
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      log "topic ${names[$i]} ready"
    else
      failed=1
      warn "creating topic ${names[$i]} failed:"
      cat "$TOPICS_TMP/$i.log" >&2
    fi
  done
  ((failed == 0)) || die "some topics could not be created"
  log "all ${#specs[@]} topics present on $BOOTSTRAP"
}

# ---------------------------------------------------------------------------------------------

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) take_lock; cmd_install ;;
    start)   take_lock; cmd_start ;;
    stop)    take_lock; cmd_stop ;;
    restart) take_lock; cmd_stop; cmd_start ;;
    status | health) cmd_status ;;
    topics)  take_lock; cmd_topics ;;
    reset)   take_lock; cmd_reset ;;
    logs)    cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
