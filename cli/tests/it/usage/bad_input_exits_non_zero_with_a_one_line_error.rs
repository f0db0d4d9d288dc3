//! Bad flags, a missing file, a data directory that cannot be one and a bad
//! pattern each end the tool with a non-zero status and one line on
//! standard error naming what was wrong.

use crate::support;

/// Runs the tool, expects it to fail, and returns its only error line.
fn one_line_error(args: &[&str]) -> String {
    let run = support::run(args);
    assert_eq!(run.status.code(), Some(1), "{args:?}: {:?}", run.err);
    assert_eq!(run.err.len(), 1, "{args:?}: {:?}", run.err);
    assert!(run.err[0].starts_with("error: "), "{:?}", run.err);
    run.err[0].clone()
}

#[test]
fn bad_input_exits_non_zero_with_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let missing = missing.to_str().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, support::event_line(0) + "\n").unwrap();
    let events = events.to_str().unwrap();

    for args in [
        &["serve", "--bogus"][..],
        &["serve", "--port", "99999"],
        &["demo", "--events", "-3"],
    ] {
        let run = support::run(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(run.err[0].starts_with("error: "), "{args:?}: {:?}", run.err);
        assert!(
            run.err[0].contains(args[args.len() - 1]) || run.err[0].contains(args[1]),
            "{:?}",
            run.err
        );
    }

    let error = one_line_error(&[
        "import",
        missing,
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        error.contains(missing) && error.contains("No such file"),
        "{error}"
    );

    for args in [
        &["serve", "--port", "0", "--data-dir", file][..],
        &["import", events, "--data-dir", file],
        &["export", "--data-dir", file],
    ] {
        let error = one_line_error(args);
        assert!(error.contains(file), "{args:?}: {error}");
    }

    let error = one_line_error(&["tail", "tool.{a,b}"]);
    assert!(error.contains("`tool.{a,b}`"), "{error}");
    let error = one_line_error(&["tail", "--url", "127.0.0.1:15596"]);
    assert!(
        error.contains("127.0.0.1:15596") && error.contains("http://"),
        "{error}"
    );
}
