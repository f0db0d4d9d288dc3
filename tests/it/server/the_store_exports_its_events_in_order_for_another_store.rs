//! `ObservationStore` works without HTTP: events ingested (defaults filled,
//! duplicates skipped) come back from `export` as one JSON text each, in
//! ingest order, and importing that export into another store gives the
//! same events and the same run records.

use event_center::{Event, ObservationServer, ObservationStore, RunContext};
use serde_json::Value;

#[test]
fn the_store_exports_its_events_in_order_for_another_store() {
    let source_dir = tempfile::tempdir().unwrap();
    let mut source = ObservationStore::open(source_dir.path()).unwrap();
    let root = RunContext::new("agent_execution").with_agent_name("planner");
    let child = root.child("model_request");
    // Recent times: a stale run's reported status would carry the query time.
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 5_000;
    let events: Vec<Event> = (0..2500)
        .map(|i| {
            let run = if i % 2 == 0 {
                root.clone()
            } else {
                child.clone()
            };
            Event::new(if i == 2499 {
                "agent.completed"
            } else {
                "model.delta"
            })
            .with_run(run)
            .with_timestamp(t0 + i)
            .with_payload(serde_json::json!({ "i": i }))
        })
        .collect();
    assert_eq!(source.ingest(&events[..1000]).unwrap(), 1000);
    assert_eq!(
        source.ingest(&events).unwrap(),
        1500,
        "the first 1000 are there"
    );

    let lines: Vec<String> = source.export().collect::<Result<_, _>>().unwrap();
    assert_eq!(lines.len(), 2500);
    for (line, event) in lines.iter().zip(&events) {
        let exported = Event::parse(line).unwrap();
        assert_eq!(exported.event_id, event.event_id);
        assert_eq!(exported.payload, event.payload);
        assert_eq!(exported.meta["app_id"], "default");
        assert!(!line.contains('\n'));
    }

    let copy_dir = tempfile::tempdir().unwrap();
    let mut copy = ObservationStore::open(copy_dir.path()).unwrap();
    let imported: Vec<Event> = lines.iter().map(|l| Event::parse(l).unwrap()).collect();
    assert_eq!(copy.ingest(&imported).unwrap(), 2500);
    let again: Vec<String> = copy.export().collect::<Result<_, _>>().unwrap();
    let as_json = |texts: &[String]| -> Vec<Value> {
        texts
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect()
    };
    assert_eq!(as_json(&again), as_json(&lines));
    drop((source, copy));

    // Both directories serve the same runs.
    let runs = |dir: &std::path::Path| {
        let server = ObservationServer::builder()
            .with_port(0)
            .with_data_dir(dir)
            .build()
            .unwrap()
            .start()
            .unwrap();
        let body: Value = ureq::get(&format!(
            "{}/observation/runs/{}/tree",
            server.url(),
            root.run_id
        ))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
        body["data"].clone()
    };
    let tree = runs(source_dir.path());
    assert_eq!(tree["run"]["event_count"], 1250);
    assert_eq!(tree["children"][0]["run"]["event_count"], 1250);
    assert_eq!(tree, runs(copy_dir.path()));
}
