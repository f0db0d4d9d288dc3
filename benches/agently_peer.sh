#!/usr/bin/env bash
# Agently 4.1.4.10's EventCenter vs event-center on the same loop: one
# awaited async hook, `await emitter.async_emit("model.completed")` vs
# `emitter.emit("model.completed").send_async().await`.
#
# Creates a throwaway virtualenv (removed on exit), installs agently there,
# runs benches/agently_peer.py, then `cargo bench --bench async_rate`, and
# prints both rates and their ratio.
#
# Usage: bash benches/agently_peer.sh
# Env: AGENTLY_PEER_N (default 20000), ASYNC_RATE_N (default 2000000),
#      PYTHON (default python3).
set -euo pipefail

AGENTLY_VERSION="4.1.4.10"
PYTHON="${PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/agently-peer.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

echo "== virtualenv in $tmp, installing agently==$AGENTLY_VERSION" >&2
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "agently==$AGENTLY_VERSION"

echo "== Agently EventCenter" >&2
agently_line="$("$tmp/venv/bin/python" "$here/agently_peer.py")"
echo "$agently_line"

echo "== event-center (cargo bench --bench async_rate)" >&2
rust_line="$(cd "$root" && cargo bench --quiet --bench async_rate | grep '^event-center:')"
echo "$rust_line"

rate_of() { awk '{ print $2 }' <<<"$1"; }
agently_rate="$(rate_of "$agently_line")"
rust_rate="$(rate_of "$rust_line")"
awk -v a="$agently_rate" -v r="$rust_rate" 'BEGIN {
    if (a <= 0) { print "cannot compute the ratio: agently rate is " a; exit 1 }
    ratio = r / a
    printf "ratio: event-center / agently = %.0fx (goal >= 500x: %s)\n", ratio, (ratio >= 500 ? "met" : "MISSED")
}'
