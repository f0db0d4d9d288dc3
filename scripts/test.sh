#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests, and the examples built.
# Needs the Rust toolchain and python3 with venv (for the DevTools server);
# the fuzz script installs cargo-fuzz (and a C++ compiler) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Agently DevTools server the devtools-client tests talk to (agently-devtools
# 0.2.0 from PyPI, in a virtualenv under target/).
bash scripts/devtools_server.sh install
# nats-server (Debian's, with JetStream) for the `nats` feature's tests.
bash scripts/nats_server.sh install
# Headless Chromium and chromedriver (Debian's) for the viewer's browser tests.
bash scripts/chromium.sh
# curl, which a server test runs against the observation server.
bash scripts/curl.sh

# The attack tests measure the server's throughput and answer times under
# load they make themselves: they run one at a time, after the rest.
cargo test --all-features --no-fail-fast -- --skip server_security::
cargo test --all-features --test it -- server_security:: --test-threads=1

# The registry's publication protocol, model-checked under every interleaving
# (its own target dir, so the normal build cache stays valid).
RUSTFLAGS="--cfg event_center_loom" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom" \
  cargo test --release --lib loom_model
# emit_json, pattern compilation and the ingest body under libFuzzer, 30 s per target.
bash scripts/fuzz.sh 30

# The examples, from the build the tests made (all features, nothing
# rebuilt: running each with its own features would rebuild the library
# for every feature set).
cargo build --quiet --all-features --examples
examples="${CARGO_TARGET_DIR:-target}/debug/examples"
for example in quickstart delivery atoms_typed_events minded_decisions wayfound_transcript \
  weni_tool otlp_export jsonl_sink tracing_bridge; do
  "$examples/$example" > /dev/null
done
# No server on port 9: the example reports what was left and exits 0.
"$examples/devtools_forwarder" http://127.0.0.1:9 > /dev/null
# No server on port 9: the example says so and exits 0.
"$examples/nats_events" nats://127.0.0.1:9 > /dev/null
