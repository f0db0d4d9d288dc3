//! Importing the same JSONL file twice stores each event once: the second
//! import counts them all as already stored.

use crate::support;

#[test]
fn importing_a_file_again_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let input = dir.path().join("events.jsonl");
    let lines: Vec<String> = (0..1_000).map(support::event_line).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let input = input.to_str().unwrap();

    let first = support::run(&["import", input, "--data-dir", store]);
    assert!(first.status.success(), "{:?}", first.err);
    assert!(
        first.out[0].ends_with(": 1000 events, 1000 new, 0 already stored"),
        "{:?}",
        first.out
    );
    let again = support::run(&["import", input, "--data-dir", store]);
    assert!(again.status.success(), "{:?}", again.err);
    assert!(
        again.out[0].ends_with(": 1000 events, 0 new, 1000 already stored"),
        "{:?}",
        again.out
    );

    let export = support::run(&["export", "--data-dir", store]);
    assert!(export.status.success(), "{:?}", export.err);
    assert_eq!(export.out.len(), 1_000);
    assert_eq!(
        export.err.last().unwrap(),
        &format!("exported 1000 events from {store} to standard output")
    );
}
