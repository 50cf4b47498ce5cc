#!/usr/bin/env bash
# The test command: set up, start the local Kafka broker if needed, build, run
# every test. Tests that need Kafka fail (never skip) when it is not there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

started_kafka=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi
bash scripts/kafka.sh topics
stop_kafka() { if [ "$started_kafka" = 1 ]; then bash scripts/kafka.sh stop || true; fi; }
trap stop_kafka EXIT

# The end-to-end tests run the services as separate processes from target/.
cargo build --workspace --bins
cargo test --workspace --no-fail-fast
