#!/usr/bin/env bash
# The Agently DevTools server the devtools-client tests, bench and example
# talk to, from PyPI (agently-devtools 0.2.0, with agently 4.1.4.10) in a
# virtualenv of its own.
#
#   bash scripts/devtools_server.sh install        # create the virtualenv (once; idempotent)
#   bash scripts/devtools_server.sh path           # print the virtualenv's directory
#   bash scripts/devtools_server.sh serve ARGS...  # run `agently-devtools start --no-open ARGS...`
#
# The virtualenv lives in target/devtools-venv (or $DEVTOOLS_VENV). `serve`
# runs the server in the foreground with HOME in a fresh temporary directory
# (its logs and stores go there); with DEVTOOLS_STOP_ON_EOF=1 it also stops
# when its standard input closes, so a test that holds the pipe never leaves
# a server behind.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="0.2.0"
# Agently itself, pinned: the Agently-client test drives its ObservationBridge.
AGENTLY_VERSION="4.1.4.10"
VENV="${DEVTOOLS_VENV:-$PWD/target/devtools-venv}"

install() {
    if [ -x "$VENV/bin/agently-devtools" ] && [ -f "$VENV/.installed-$VERSION-$AGENTLY_VERSION" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$VENV")"
    # One installer at a time (tests may call this concurrently).
    exec 9>"$VENV.lock"
    flock 9
    if [ -f "$VENV/.installed-$VERSION-$AGENTLY_VERSION" ]; then
        return 0
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "agently-devtools==$VERSION" "agently==$AGENTLY_VERSION"
    touch "$VENV/.installed-$VERSION-$AGENTLY_VERSION"
}

serve() {
    if [ ! -x "$VENV/bin/agently-devtools" ]; then
        echo "no agently-devtools in $VENV: run 'bash scripts/devtools_server.sh install' first" >&2
        exit 2
    fi
    home="$(mktemp -d)"
    HOME="$home" "$VENV/bin/agently-devtools" start --no-open "$@" &
    server=$!
    trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$home"' EXIT
    trap 'exit 143' INT TERM
    if [ -n "${DEVTOOLS_STOP_ON_EOF:-}" ]; then
        # Stop the server when the caller closes our standard input (or dies).
        # (A background job's own stdin is /dev/null: read a copy of ours.)
        exec 3<&0
        { cat <&3 >/dev/null || true; kill "$server" 2>/dev/null || true; } &
    fi
    wait "$server" || true
}

case "${1:-}" in
    install) install ;;
    path) echo "$VENV" ;;
    serve) shift; serve "$@" ;;
    *) echo "usage: $0 install | path | serve [agently-devtools start options]" >&2; exit 2 ;;
esac
