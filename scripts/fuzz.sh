#!/usr/bin/env bash
# Fuzzes the JSON event entry points (Event::parse, Event::from_json,
# EventCenter::emit_json), pattern compilation and matching, and the
# observation server's ingest body parser with
# cargo-fuzz (libFuzzer), each target for a fixed time. Fails on any crash,
# failed check or timeout, and prints how to reproduce it.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# Stable Rust is enough: with `--sanitizer none`, every flag cargo-fuzz
# passes for coverage instrumentation is a stable rustc flag. Installs what
# it needs when missing: a C++ compiler (libFuzzer is C++) and cargo-fuzz.
# The targets live in fuzz/ (their own workspace); seeds in
# fuzz/corpus/<target>/, the corpus they grow in fuzz/target/corpus/<target>/,
# crash inputs in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
case "$seconds" in
'' | *[!0-9]*)
    echo "usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
    ;;
esac
targets=(emit_json patterns ingest_body)

if ! command -v c++ > /dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq g++
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install cargo-fuzz --version "^0.13" --locked
fi

# --debug-assertions: overflow checks and debug_assert! on, as in tests.
options=(--sanitizer none --debug-assertions)
cargo fuzz build "${options[@]}"

passed=0
failed=0
for target in "${targets[@]}"; do
    corpus="fuzz/target/corpus/$target"
    log="fuzz/target/fuzz-$target.log"
    mkdir -p "$corpus"
    # New inputs go to the first corpus directory; the seeds are only read.
    if cargo fuzz run "${options[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 > "$log" 2>&1; then
        passed=$((passed + 1))
        result="ok"
    else
        failed=$((failed + 1))
        result="FAILED"
        # From the first sign of the failure: the panic message, the
        # backtrace, the input and the command that reproduces it.
        awk '/panicked at|ERROR: libFuzzer|^error|^Error/ { found = 1 }
             found { print } found && /^Error: / { exit }
             END { if (!found) print "(no failure message: see the log)" }' "$log"
    fi
    runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
    rate=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log")
    cov=$(awk '/ cov: [0-9]/ { for (i = 1; i < NF; i++) if ($i == "cov:") c = $(i + 1) } END { print c }' "$log")
    inputs=$(find "$corpus" -type f | wc -l)
    echo "fuzz: $target $result: ${runs:-?} runs (${rate:-?} exec/s, at most ${seconds} s), coverage ${cov:-?}, $inputs corpus inputs (log: $log)"
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
