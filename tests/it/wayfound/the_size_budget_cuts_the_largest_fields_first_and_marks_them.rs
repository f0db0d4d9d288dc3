//! Strings over the field limit are cut with a visible marker; an entry
//! still over the batch limit loses its largest field first (the small
//! ones stay whole), and every cut is listed in `truncated_fields`.

use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind};
use serde_json::json;

#[test]
fn the_size_budget_cuts_the_largest_fields_first_and_marks_them() {
    let entry = TranscriptEntry::new("2025-05-07T10:00:03Z", TranscriptKind::ToolCall)
        .with_label("Tool Call: Fetch")
        .with_attribute("tool_name", "Fetch")
        .with_attribute("tool_input", json!({"query": "q".repeat(3_000)}))
        .with_attribute("tool_output", json!({"page": "p".repeat(9_000)}))
        .with_attribute("success", true);
    let small = TranscriptEntry::new("2025-05-07T10:00:04Z", TranscriptKind::UserMessage)
        .with_attribute("content", "thanks");
    let transcript = Transcript::from(vec![entry, small.clone()]);

    // Field limit: 5,000 characters; batch: 8,000 bytes.
    let budget = SizeBudget::new(8_000, 5_000);
    let batches = budget.split(&transcript);
    let all: Vec<&TranscriptEntry> = batches.iter().flatten().collect();
    assert_eq!(all.len(), 2);
    for batch in &batches {
        assert!(serde_json::to_vec(batch).unwrap().len() <= 8_000);
    }

    let cut = &all[0].attributes;
    let page = cut["tool_output"]["page"].as_str().unwrap();
    // The page (9,000 characters) was cut to the field limit, then further
    // down to fit the batch, and says how much it lost.
    let (kept, marker) = page.split_once("…[truncated ").unwrap();
    let dropped: usize = marker.trim_end_matches(" chars]").parse().unwrap();
    assert!(kept.chars().count() < 5_000, "{}", kept.len());
    assert_eq!(kept.chars().count() + dropped, 9_000);
    // The smaller query (3,000) was not needed: it is whole.
    assert_eq!(cut["tool_input"]["query"], "q".repeat(3_000));
    assert_eq!(cut["tool_name"], "Fetch");
    assert_eq!(cut["success"], true);
    assert_eq!(cut["truncated"], true);
    assert_eq!(
        cut["truncated_fields"],
        json!(["attributes.tool_output.page"])
    );
    assert_eq!(all[0].label.as_deref(), Some("Tool Call: Fetch"));

    // The small entry is untouched.
    assert_eq!(*all[1], small);
}
