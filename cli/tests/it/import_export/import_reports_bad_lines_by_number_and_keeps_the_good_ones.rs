//! `event-center import` names each bad line by its number (across
//! batches), says a cut-short last line is one, stores every good line,
//! and exits non-zero with a one-line summary.

use crate::support;

#[test]
fn import_reports_bad_lines_by_number_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let store = store_dir.to_str().unwrap();
    // Good lines, with bad ones at 2 and 5003 (in the second batch), a
    // blank line, and a last line cut short.
    let mut lines: Vec<String> = (0..5_004).map(support::event_line).collect();
    lines[1] = "not json".to_owned();
    lines[5_002] = r#"{"event_type": 7}"#.to_owned();
    lines[3] = String::new();
    let text = lines.join("\n") + "\n" + r#"{"event_ty"#;
    let input = dir.path().join("events.jsonl");
    std::fs::write(&input, text).unwrap();

    let import = support::run(&["import", input.to_str().unwrap(), "--data-dir", store]);
    assert!(!import.status.success());
    let name = input.display().to_string();
    let reported = |prefix: &str| import.err.iter().any(|l| l.starts_with(prefix));
    assert!(reported(&format!("{name}: line 2: ")), "{:?}", import.err);
    assert!(
        reported(&format!("{name}: line 5003: event field `event_type`")),
        "{:?}",
        import.err
    );
    assert!(
        reported(&format!("{name}: line 5005 is cut short")),
        "{:?}",
        import.err
    );
    let last = import.err.last().unwrap();
    assert!(last.starts_with("error: 2 of the 5005 lines"), "{last}");
    assert!(
        import.out[0].ends_with(": 5001 events, 5001 new, 0 already stored"),
        "{:?}",
        import.out
    );

    let ids = support::exported_ids(&store_dir);
    let expected: Vec<String> = (0..5_004u64)
        .filter(|i| ![1, 3, 5_002].contains(i))
        .map(|i| format!("{:032x}", i + 1))
        .collect();
    assert_eq!(ids, expected);
}
