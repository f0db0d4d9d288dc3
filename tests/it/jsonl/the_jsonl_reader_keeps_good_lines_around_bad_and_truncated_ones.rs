//! `read_jsonl` loads every good line of a damaged file: lines that are not
//! JSON, or JSON that is not an event, are reported by their line number
//! with what is wrong; a last line cut short (no newline) is flagged as a
//! truncated tail, not reported as bad; blank lines are skipped. A bad last
//! line that does end in a newline is a bad line, not a truncated tail.

use event_center::{read_jsonl, Event, EventErrorKind, JsonlRead};

fn line(event_type: &'static str) -> String {
    serde_json::to_string(&Event::new(event_type).with_source("Agent")).unwrap()
}

#[test]
fn good_lines_are_kept_bad_ones_numbered_and_the_cut_tail_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let cut = line("e.cut");
    let text = [
        line("e.one"),                                      // 1
        "{not json".to_owned(),                             // 2
        line("e.two"),                                      // 3
        String::new(),                                      // 4: blank, skipped
        r#"{"event_type": "e.x", "level": "LOUD"}"#.into(), // 5
        r#"["an", "array"]"#.into(),                        // 6
        line("e.three"),                                    // 7
    ]
    .join("\n")
        + "\n"
        + &cut[..cut.len() / 2]; // 8: cut short
    std::fs::write(&path, text).unwrap();

    let read = read_jsonl(&path).unwrap();
    let types: Vec<&str> = read.events.iter().map(|e| &*e.event_type).collect();
    assert_eq!(types, ["e.one", "e.two", "e.three"]);
    assert!(read.events.iter().all(|e| e.source == "Agent"));
    let numbers: Vec<usize> = read.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(numbers, [2, 5, 6]);
    assert!(matches!(
        read.bad_lines[0].error.kind(),
        EventErrorKind::InvalidJson(_)
    ));
    assert_eq!(read.bad_lines[1].error.field(), "level");
    assert_eq!(read.bad_lines[2].error.field(), "event");
    assert!(read.bad_lines[1].to_string().starts_with("line 5: "));
    assert!(read.truncated_tail);
    assert_eq!(read.lines, 8);
}

#[test]
fn a_bad_last_line_with_its_newline_is_bad_not_truncated() {
    let text = format!("{}\n{{\"event_type\": \n", line("e.one"));
    let read = JsonlRead::from_reader(text.as_bytes()).unwrap();
    assert_eq!(read.events.len(), 1);
    assert_eq!(read.bad_lines.len(), 1);
    assert_eq!(read.bad_lines[0].line, 2);
    assert!(!read.truncated_tail);
}

#[test]
fn a_complete_last_line_without_newline_is_kept() {
    let text = format!("{}\n{}", line("e.one"), line("e.two"));
    let read = JsonlRead::from_reader(text.as_bytes()).unwrap();
    assert_eq!(read.events.len(), 2);
    assert!(read.bad_lines.is_empty());
    assert!(!read.truncated_tail);
}
