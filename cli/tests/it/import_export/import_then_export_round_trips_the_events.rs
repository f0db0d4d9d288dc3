//! `event-center import` stores a JSONL file (in several batches) and
//! `event-center export` writes the same events back, in file order; the
//! export imported into another store exports to the same text.

use crate::support;

use serde_json::Value;

const EVENTS: u64 = 12_000;

#[test]
fn import_then_export_round_trips_the_events() {
    let dir = tempfile::tempdir().unwrap();
    let (store, copy) = (dir.path().join("store"), dir.path().join("copy"));
    let (store, copy) = (store.to_str().unwrap(), copy.to_str().unwrap());
    let input = dir.path().join("events.jsonl");
    let lines: Vec<String> = (0..EVENTS).map(support::event_line).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    let import = support::run(&["import", input.to_str().unwrap(), "--data-dir", store]);
    assert!(import.status.success(), "{:?}", import.err);
    assert!(
        import.out[0].ends_with(&format!(
            ": {EVENTS} events, {EVENTS} new, 0 already stored"
        )),
        "{:?}",
        import.out
    );

    let exported = dir.path().join("exported.jsonl");
    let export = support::run(&[
        "export",
        "--data-dir",
        store,
        "-o",
        exported.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{:?}", export.err);
    let text = std::fs::read_to_string(&exported).unwrap();
    let back: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back.len() as u64, EVENTS);
    for (line, got) in lines.iter().zip(&back) {
        let sent: Value = serde_json::from_str(line).unwrap();
        for field in [
            "event_id",
            "event_type",
            "source",
            "level",
            "timestamp",
            "payload",
        ] {
            assert_eq!(got[field], sent[field], "{field} of {line}");
        }
        assert_eq!(got["run"]["run_id"], sent["run"]["run_id"]);
    }

    let import = support::run(&["import", exported.to_str().unwrap(), "--data-dir", copy]);
    assert!(import.status.success(), "{:?}", import.err);
    let export = support::run(&["export", "--data-dir", copy]);
    assert!(export.status.success(), "{:?}", export.err);
    assert_eq!(export.out.join("\n") + "\n", text);
}
