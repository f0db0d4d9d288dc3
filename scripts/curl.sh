#!/usr/bin/env bash
# curl, for the test that talks to the observation server as a person would
# (tests/it/server_security/origins.rs): Debian's `curl`, installed with apt-get
# when missing.
#
#   bash scripts/curl.sh    # idempotent; uses sudo only when not root
set -euo pipefail

if command -v curl > /dev/null; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends curl > /dev/null
command -v curl > /dev/null
