#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the viewer's browser tests
# (tests/it/viewer, tests/it/server_security): Debian's `chromium` and
# `chromium-driver`, installed with apt-get when /usr/bin/chromium or
# /usr/bin/chromedriver is missing.
#
#   bash scripts/chromium.sh    # idempotent; uses sudo only when not root
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver
