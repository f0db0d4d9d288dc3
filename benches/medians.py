"""Prints the median of every benchmark of `cargo bench --bench emit` and
`cargo bench --bench delivery` and the sink benches (read from
target/criterion/*/*/new/estimates.json; criterion's console line shows the
mean), events/s for the benchmarks that declare a throughput, and the ratios
the targets are stated in.

Usage: python3 benches/medians.py [target/criterion]
"""

import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
medians = {}
rates = {}
for path in sorted(root.glob("*/*/new/estimates.json")):
    median = json.loads(path.read_text())["median"]
    name = f"{path.parts[-4]}/{path.parts[-3]}"
    ci = median["confidence_interval"]
    medians[name] = median["point_estimate"]
    line = (
        f"{name:<55} median {median['point_estimate']:9.3f} ns"
        f"  (95% CI {ci['lower_bound']:.3f} .. {ci['upper_bound']:.3f})"
    )
    # Batched benchmarks declare how many events one iteration handles.
    meta = path.parent / "benchmark.json"
    throughput = json.loads(meta.read_text()).get("throughput") if meta.exists() else None
    elements = (throughput or {}).get("Elements")
    if elements:
        rates[name] = elements / median["point_estimate"] * 1e9
        line += f"  = {rates[name] / 1e6:.2f} M events/s"
    print(line)


def ratio(label, a, b):
    if a in medians and b in medians:
        print(f"{label:<55} {medians[a] / medians[b]:9.2f}x")


print()
ratio("one_inline_hook: event_center / tracing", "one_inline_hook/event_center", "one_inline_hook/tracing")
ratio(
    "thousand_unmatched_plus_one / one_inline_hook",
    "thousand_unmatched_plus_one/event_center_1001_hooks",
    "one_inline_hook/event_center",
)
ratio(
    "1001 hooks / 1 hook (same group)",
    "thousand_unmatched_plus_one/event_center_1001_hooks",
    "thousand_unmatched_plus_one/event_center_1_hook",
)
ratio(
    "stalled DropOldest / no hooks (same group)",
    "stalled_drop_oldest/stalled_background_drop_oldest",
    "stalled_drop_oldest/no_hooks",
)
ratio(
    "stalled DropOldest / one no-op inline hook (same group)",
    "stalled_drop_oldest/stalled_background_drop_oldest",
    "stalled_drop_oldest/one_inline_noop_hook",
)


def rate_ratio(label, a, b):
    if a in rates and b in rates:
        print(f"{label:<55} {rates[a] / rates[b]:9.2f}x")


rate_ratio(
    "background end to end: event_center / std sync_channel",
    "background_end_to_end/event_center",
    "background_end_to_end/std_sync_channel",
)
for n, subscribers in ((1, "1_subscribers"), (10, "10_subscribers")):
    rate_ratio(
        f"events/s, {n} hook(s): event_center / tokio broadcast",
        f"broadcast_peer/event_center_{n}_hooks",
        f"broadcast_peer/tokio_broadcast_{subscribers}",
    )
ratio(
    "jsonl sustained: tracing-subscriber json / event_center jsonl",
    "jsonl_sustained/tracing_subscriber_json",
    "jsonl_sustained/event_center_jsonl",
)
