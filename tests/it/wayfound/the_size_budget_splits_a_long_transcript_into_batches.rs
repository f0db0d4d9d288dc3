//! A transcript larger than one request is packed, in order and without
//! loss, into batches that each fit the byte budget; the default budget is
//! 700,000 bytes per batch and 20,000 characters per field.

use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind};

#[test]
fn the_size_budget_splits_a_long_transcript_into_batches() {
    let budget = SizeBudget::default();
    assert_eq!((budget.batch_bytes, budget.field_chars), (700_000, 20_000));

    let entries: Vec<TranscriptEntry> = (0..200)
        .map(|i| {
            TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::AssistantMessage)
                .with_attribute("content", format!("{i:03} {}", "w".repeat(10_000)))
        })
        .collect();
    let transcript = Transcript::from(entries.clone());
    let batches = budget.split(&transcript);

    // 200 entries of about 10 KB: three batches of at most 700,000 bytes.
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        let bytes = serde_json::to_vec(batch).unwrap().len();
        assert!(bytes <= 700_000, "{bytes}");
    }
    // Full batches are really full: the next entry would not have fit.
    let first = serde_json::to_vec(&batches[0]).unwrap().len();
    let next = serde_json::to_vec(&batches[1][0]).unwrap().len();
    assert!(first + 1 + next > 700_000);
    // Nothing lost, nothing cut, order kept.
    let flat: Vec<TranscriptEntry> = batches.into_iter().flatten().collect();
    assert_eq!(flat, entries);
}
