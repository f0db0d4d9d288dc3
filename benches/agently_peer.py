"""Times Agently 4.1.4.10's own EventCenter on the loop that
`benches/async_rate.rs` times for event-center:

    await emitter.async_emit("model.completed")

with one matching async hook that increments a counter, awaited
(Agently's default delivery policy: raw, dispatch "await").

Prints `agently: <rate> events/s`. Run through `benches/agently_peer.sh`.
"""

import asyncio
import os
import sys
import time

# Importing the module imports the `agently` package; only the loop is timed.
from agently.core.runtime.EventCenter import EventCenter

N = int(os.environ.get("AGENTLY_PEER_N", "20000"))
WARMUP = max(N // 10, 1)


async def main() -> None:
    center = EventCenter()
    seen = 0

    async def counter(event):
        nonlocal seen
        seen += 1

    center.register_hook(counter, event_types="model.completed", hook_name="async-counter")
    emitter = center.create_emitter("Agent")

    for _ in range(WARMUP):
        await emitter.async_emit("model.completed")

    start = time.perf_counter()
    for _ in range(N):
        await emitter.async_emit("model.completed")
    elapsed = time.perf_counter() - start

    assert seen == WARMUP + N, (seen, WARMUP + N)
    rate = N / elapsed
    print(
        f"agently: {rate:.0f} events/s ({N} awaited emits in {elapsed:.3f} s, "
        f"{elapsed / N * 1e6:.1f} us each; Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    asyncio.run(main())
