//! An ingested `triggerflow.definition_declared` event registers the flow
//! its payload declares, as Agently DevTools' registry captures it: the
//! name from `payload.flow_name` (else `run.meta.flow_name`), the
//! definition object, only the non-blank Mermaid diagrams, app and group
//! from the event's meta (body defaults included). The legacy
//! `workflow.definition_declared` spelling counts; `trigger_flow.`, which
//! the alias table does not map for this suffix, does not.

use crate::support::observation_server::{now_ms, run, TestServer};
use serde_json::json;

#[test]
fn a_declared_flow_definition_event_registers_the_flow() {
    let server = TestServer::start();
    let before = now_ms();
    let definition =
        json!({"chunks": [{"id": "start"}, {"id": "end"}], "edges": [["start", "end"]]});
    assert_eq!(
        server.ingest(json!([{
            "event_type": "triggerflow.definition_declared",
            "payload": {
                "flow_name": "ingestion",
                "definition": definition,
                "mermaid": {"flow": "graph LR; start-->end", "empty": "  ", "odd": 3},
            },
        }])),
        1
    );
    let mut legacy_run = run("legacy-run", "triggerflow_execution", None, "legacy-run");
    legacy_run["meta"] = json!({"flow_name": "legacy"});
    let (status, reply) = server.post(&json!({
        "app_id": "app-2",
        "group_id": "team",
        "events": [
            {"event_type": "workflow.definition_declared", "run": legacy_run,
             "payload": {"definition": {"v": 1}}},
            {"event_type": "trigger_flow.definition_declared",
             "payload": {"flow_name": "native", "definition": {"v": 1}}},
        ],
    }));
    assert_eq!(
        (status, &reply["data"]["ingested"]),
        (200, &json!(2)),
        "{reply}"
    );

    let data = server.data("/observation/flows/resolve?flow_name=ingestion");
    let registered_at = data["registered_at"].as_i64().expect("registered_at");
    assert!((before..=now_ms()).contains(&registered_at));
    assert_eq!(
        data,
        json!({
            "app_id": "default", "group_id": null, "flow_name": "ingestion",
            "definition": definition, "registered_at": registered_at,
            "mermaid": {"flow": "graph LR; start-->end"},
        })
    );

    let legacy =
        server.data("/observation/flows/resolve?flow_name=legacy&app_id=app-2&group_id=team");
    assert_eq!(
        (
            &legacy["app_id"],
            &legacy["group_id"],
            &legacy["flow_name"],
            &legacy["definition"]
        ),
        (
            &json!("app-2"),
            &json!("team"),
            &json!("legacy"),
            &json!({"v": 1})
        )
    );
    assert!(legacy.get("mermaid").is_none(), "{legacy}");

    let (status, _) =
        server.get("/observation/flows/resolve?flow_name=native&app_id=app-2&group_id=team");
    assert_eq!(status, 404);
}
