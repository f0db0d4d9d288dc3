"""Reports one run to an observation server through Agently's own client.

Agently (agently 4.1.4.10) with its ObservationBridge (agently-devtools
0.2.0), configured the way Agently's docs and project template do, emits an
agent run with a model-request child (streamed deltas included) through
Agently's event center, flushes, and prints the bridge's stats as JSON.

    python scripts/agently_client.py BASE_URL API_KEY RUN_ID

Run it with the virtualenv's python (bash scripts/devtools_server.sh path).
"""

import asyncio
import json
import sys

from agently import Agently
from agently.types.data import RunContext
from agently_devtools import ObservationBridge


async def report(base_url: str, api_key: str, run_id: str) -> dict:
    bridge = ObservationBridge(
        Agently,
        endpoint=f"{base_url}/observation/ingest",
        api_key=api_key,
        app_id="bridge-app",
        group_id="bridge-group",
    )
    bridge.watch(Agently)
    run = RunContext.create(run_kind="agent_execution", run_id=run_id, agent_name="bridge-agent")
    model = run.create_child(run_kind="model_request", run_id=f"{run_id}-model")
    emitter = Agently.event_center.create_emitter("BridgeClient")
    await emitter.async_emit("agent.started", run=run, payload={"goal": "answer"})
    await emitter.async_emit("model.requested", run=model, payload={"prompt": "hi"})
    for index in range(3):
        await emitter.async_emit("model.delta", run=model, payload={"delta": f"token {index}"})
    await emitter.async_emit("model.completed", run=model, message="done")
    await emitter.async_emit("agent.completed", run=run, payload={"answer": 42})
    await bridge.flush()
    return bridge.get_stats()


if __name__ == "__main__":
    base_url, api_key, run_id = sys.argv[1:4]
    print(json.dumps(asyncio.run(report(base_url, api_key, run_id)), default=str))
