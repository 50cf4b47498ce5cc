#!/usr/bin/env bash
# Installs what building and running the stack needs, once; safe to re-run.
#   - Debian packages: libclang-dev (bindgen for the RocksDB bindings), cmake,
#     a C++ toolchain, a JRE 17 and Maven (the Kafka broker), curl, python3.
#   - The Kafka broker jars from Maven Central (scripts/kafka.sh install).
# Rust (cargo) must already be installed; it is not available from apt in a
# recent enough version.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) and re-run" >&2
  exit 1
fi

bash scripts/kafka.sh install
echo "setup: ok"
