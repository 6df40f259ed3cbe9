#!/usr/bin/env bash
# Installs what Skiff needs to build and test, from Debian 12's packages. Safe to run again: it only
# calls apt-get when something is missing. Must run as root (or with sudo available).
set -euo pipefail

build_pkgs=(g++ meson ninja-build pkg-config git python3
  libboost1.81-dev libsqlite3-dev rapidjson-dev libfmt-dev catch2
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libssl-dev libyaml-cpp-dev)
# Real peers the tests drive: etcd + etcdctl (differential conformance), sqlite3 (integrity checks).
test_pkgs=(etcd-server etcd-client sqlite3 procps openssl curl python3-kubernetes)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--with-tests" ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# etcd-server's maintainer scripts must not start a system etcd: tests run their own on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
