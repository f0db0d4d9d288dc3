#!/usr/bin/env bash
# The NATS server (with JetStream) the `nats` feature's tests start, from
# Debian's packages (nats-server 2.9).
#
#   bash scripts/nats_server.sh install   # apt-get install nats-server when missing (idempotent)
#
# The tests start their own server (`nats-server -js -sd DIR -a 127.0.0.1
# -p PORT`) on a free port with its store in a temporary directory, and stop
# it when they end.
set -euo pipefail

install() {
    if command -v nats-server > /dev/null; then
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends nats-server > /dev/null
    command -v nats-server > /dev/null
}

case "${1:-}" in
    install) install ;;
    *) echo "usage: $0 install" >&2; exit 2 ;;
esac
