#!/usr/bin/env bash
# The main job: set up, build, start Kafka and the four services locally, drive
# traffic through ingest, print a summary, then keep the stack running until
# Ctrl-C. State lives under .local/ and starts fresh on every run.
#
#   scripts/run.sh                         built-in traffic generator
#   scripts/run.sh ../shared/data/ubuntu-irc [--days N]   replay a dataset
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"

dataset=""
replay_args=()
while (($#)); do
  case "$1" in
    --days) replay_args+=(--days "$2"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) dataset="$1"; shift ;;
  esac
done

export IM_AUTH_SECRET="${IM_AUTH_SECRET:-im-dev-secret-change-me}"
logs="$root/.local/logs"
bin="$root/target/debug"

bash scripts/setup.sh
echo "== building"
cargo build --workspace --bins

echo "== starting Kafka (fresh state)"
for pidfile in "$root"/.local/run/*.pid; do
  [ -e "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
done
bash scripts/kafka.sh reset >/dev/null
rm -rf "$root/.local/data" "$root/.local/run"
mkdir -p "$logs" "$root/.local/run"
bash scripts/kafka.sh start
bash scripts/kafka.sh topics

pids=()
stop_all() {
  echo; echo "== stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  bash scripts/kafka.sh stop || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start() {
  local name=$1; shift
  "$bin/$name" "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$root/.local/run/$name.pid"
}
start fanout-worker
start relation-stream
start ingest serve
start reader-api

wait_http() {
  for _ in $(seq 1 300); do
    curl -fsS "$1/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "service at $1 did not start; see $logs" >&2
  exit 1
}
for url in http://127.0.0.1:9102 http://127.0.0.1:9103 http://127.0.0.1:8080 http://127.0.0.1:8081; do wait_http "$url"; done
echo "== services up (logs in .local/logs)"

started=$(date +%s.%N)
if [ -n "$dataset" ]; then
  echo "== replaying $dataset"
  "$bin/ingest" replay "$dataset" "${replay_args[@]}" | tee "$logs/driver.out"
else
  echo "== generating traffic"
  "$bin/ingest" generate | tee "$logs/driver.out"
fi

echo "== waiting for the pipeline to drain"
lag() { curl -fsS "$1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lag"])'; }
quiet=0
while [ "$quiet" -lt 2 ]; do
  if [ "$(lag http://127.0.0.1:9102)" = 0 ] && [ "$(lag http://127.0.0.1:9103)" = 0 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  sleep 0.5
done
drained=$(date +%s.%N)

echo "== summary"
python3 scripts/summary.py --since "$started" --until "$drained" --driver-output "$logs/driver.out" ${dataset:+--dataset "$dataset"}

echo
echo "The stack keeps running: ingest :8080, reader-api :8081, metrics on /metrics of each (fanout :9102, relation :9103)."
echo "Press Ctrl-C to stop."
wait "${pids[@]}"
