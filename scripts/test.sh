#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests, and the examples built.
# Needs only the Rust toolchain (cargo); installs nothing else yet.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --all-features --no-fail-fast
cargo run --quiet --example quickstart > /dev/null
cargo run --quiet --example delivery > /dev/null
