//! `import` of damaged or binary files: only a last line whose JSON stops
//! early (no newline) is "cut short"; a complete but invalid last line, NUL
//! bytes and a line over the server's body limit are bad lines named by
//! number, with a non-zero exit; a UTF-8 byte order mark at the start is
//! not an error.

use std::path::Path;

use crate::support;

/// A good event line with a known id.
fn good(i: u64) -> String {
    support::event_line(i)
}

/// Runs `import FILE` into `store` with `text` as the file.
fn import(dir: &Path, text: &[u8]) -> support::Finished {
    let input = dir.join("events.jsonl");
    std::fs::write(&input, text).unwrap();
    let store = dir.join("store");
    support::run(&[
        "import",
        input.to_str().unwrap(),
        "--data-dir",
        store.to_str().unwrap(),
    ])
}

/// Whether any standard error line contains `part`.
fn said(run: &support::Finished, part: &str) -> bool {
    run.err.iter().any(|l| l.contains(part))
}

#[test]
fn a_complete_but_invalid_last_line_is_a_bad_line_not_cut_short() {
    for last in [
        r#"{"event_type": 7}"#,
        "not json",
        r#"{"event_type": "a"}}"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = import(dir.path(), format!("{}\n{last}", good(0)).as_bytes());
        assert!(!run.status.success(), "{last}: {:?}", run.err);
        assert!(
            said(&run, "events.jsonl: line 2: "),
            "{last}: {:?}",
            run.err
        );
        assert!(!said(&run, "cut short"), "{last}: {:?}", run.err);
        assert!(
            run.err
                .last()
                .unwrap()
                .starts_with("error: 1 of the 2 lines"),
            "{last}: {:?}",
            run.err
        );
        assert_eq!(support::exported_ids(&dir.path().join("store")).len(), 1);
    }

    // A last line whose JSON stops early is still a line cut short.
    let dir = tempfile::tempdir().unwrap();
    let run = import(dir.path(), format!("{}\n{{\"event_ty", good(0)).as_bytes());
    assert!(run.status.success(), "{:?}", run.err);
    assert!(said(&run, "line 2 is cut short"), "{:?}", run.err);
}

#[test]
fn a_file_of_nul_bytes_is_bad_input_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let run = import(dir.path(), &[0u8; 1000]);
    assert!(!run.status.success(), "{:?}", run.err);
    assert!(!said(&run, "cut short"), "{:?}", run.err);
    assert!(
        said(
            &run,
            "events.jsonl: line 1: the text holds 1000 NUL bytes: binary data"
        ),
        "{:?}",
        run.err
    );

    // NUL bytes inside a line that ends the file without a newline too.
    let dir = tempfile::tempdir().unwrap();
    let run = import(
        dir.path(),
        format!("{}\n{{\"event_type\":\0\0", good(0)).as_bytes(),
    );
    assert!(!run.status.success(), "{:?}", run.err);
    assert!(
        said(&run, "line 2: the text holds 2 NUL bytes"),
        "{:?}",
        run.err
    );
}

#[test]
fn a_byte_order_mark_at_the_start_of_the_file_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("\u{feff}{}\n{}\n", good(0), good(1));
    let run = import(dir.path(), text.as_bytes());
    assert!(run.status.success(), "{:?}", run.err);
    assert!(
        run.out[0].ends_with(": 2 events, 2 new, 0 already stored"),
        "{:?}",
        run.out
    );
}

#[test]
fn a_line_over_the_servers_body_limit_is_a_bad_line_and_the_others_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!(
        r#"{{"event_id":"big","event_type":"a.big","payload":"{}"}}"#,
        "x".repeat(9 << 20)
    );
    let text = format!("{}\n{big}\n{}\n", good(0), good(1));
    let run = import(dir.path(), text.as_bytes());
    assert!(!run.status.success(), "{:?}", run.err);
    assert!(
        said(&run, "line 2: the text is longer than 8388608 bytes"),
        "{:?}",
        run.err
    );
    let ids = support::exported_ids(&dir.path().join("store"));
    assert_eq!(ids, [format!("{:032x}", 1), format!("{:032x}", 2)]);
}
