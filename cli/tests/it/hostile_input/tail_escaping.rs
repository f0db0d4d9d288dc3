//! `tail` prints events from a server: an event whose type, source, run id,
//! message or payload holds terminal escape sequences (retitle, clear the
//! screen, a C1 CSI, a bidirectional override) must reach the terminal
//! escaped, never raw.

use serde_json::json;

use crate::support;

/// What an attacker puts in every field: set the title, clear the screen,
/// home the cursor, a C1 CSI, DEL, a bell and a right-to-left override.
const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b[H\u{9b}31m\u{7f}\u{202e}";

/// The characters of `line` a terminal would act on.
fn controls(line: &str) -> Vec<char> {
    line.chars()
        .filter(|&c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect()
}

#[test]
fn tail_prints_escape_sequences_of_every_field_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (_serve, url) = support::serve(dir.path(), &[]);
    let mut tail = support::Process::start(&["tail", "--url", &url]);
    tail.wait_stderr("saying it follows the stream", |l| {
        l.starts_with("tail: following ")
    });

    let run = json!({"run_id": format!("run{HOSTILE}"), "run_kind": "agent_execution"});
    let events = json!([
        {"event_type": format!("tool.hostile{HOSTILE}"), "source": format!("src{HOSTILE}"),
         "run": run, "message": format!("msg{HOSTILE}")},
        {"event_type": "tool.payload", "level": "ERROR", "payload": {"k": format!("v{HOSTILE}")}},
        {"event_type": "tool.error", "error": {"type": format!("Err{HOSTILE}"), "message": HOSTILE}},
    ]);
    let (status, body) = support::post(
        &format!("{url}/observation/ingest"),
        None,
        &json!({ "events": events }),
    );
    assert_eq!(status, 200, "{body}");

    let first = tail.wait_stdout("for the hostile event", |l| l.contains("tool.hostile"));
    let payload = tail.wait_stdout("for the hostile payload", |l| l.contains("tool.payload"));
    let error = tail.wait_stdout("for the hostile error", |l| l.contains("tool.error"));
    for line in [&first, &payload, &error] {
        assert_eq!(
            controls(line),
            Vec::<char>::new(),
            "raw controls in {line:?}"
        );
    }
    assert!(
        first.contains(r"tool.hostile\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[H\u{9b}31m\u{7f}\u{202e}"),
        "{first:?}"
    );
    assert!(first.contains(r"src\u{1b}]0;pwned"), "{first:?}");
    assert!(first.contains(r"msg\u{1b}]0;pwned"), "{first:?}");
    assert!(
        first.contains(r"\u{7f}\u{202e}"),
        "the run id's tail: {first:?}"
    );
    assert!(payload.contains(r"\u{9b}31m\u{7f}\u{202e}"), "{payload:?}");
    assert!(error.contains(r"Err\u{1b}]0;pwned"), "{error:?}");
    assert_eq!(tail.out.len(), 3, "one line per event: {:?}", tail.out);
}
