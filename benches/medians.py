"""Prints the median of every benchmark of `cargo bench --bench emit` (read
from target/criterion/*/*/new/estimates.json; criterion's console line shows
the mean) and the ratios the targets are stated in.

Usage: python3 benches/medians.py [target/criterion]
"""

import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
medians = {}
for path in sorted(root.glob("*/*/new/estimates.json")):
    median = json.loads(path.read_text())["median"]
    name = f"{path.parts[-4]}/{path.parts[-3]}"
    ci = median["confidence_interval"]
    medians[name] = median["point_estimate"]
    print(
        f"{name:<55} median {median['point_estimate']:9.3f} ns"
        f"  (95% CI {ci['lower_bound']:.3f} .. {ci['upper_bound']:.3f})"
    )


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
