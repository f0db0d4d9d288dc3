//! An entry too large for a batch even though none of its strings is long
//! (thousands of small fields, a huge array of numbers) is still brought
//! under the budget: large arrays become cut JSON text, and as a last resort
//! the attributes become one cut preview, marked as truncated.

use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind};
use serde_json::{json, Value};

#[test]
fn an_entry_of_many_small_fields_still_fits_its_batch() {
    let mut many = TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::CustomEvent);
    for i in 0..3_000 {
        many.attributes.insert(format!("k{i:04}"), json!(i));
    }
    let numbers = TranscriptEntry::new("2025-05-07T10:00:01Z", TranscriptKind::ToolCall)
        .with_attribute("tool_name", "Sampler")
        .with_attribute("tool_output", (0..20_000).collect::<Vec<u32>>());
    let budget = SizeBudget::new(4_096, 20_000);
    let batches = budget.split(&Transcript::from(vec![many, numbers]));

    assert_eq!(batches.len(), 2);
    for batch in &batches {
        let bytes = serde_json::to_vec(batch).unwrap().len();
        assert!(bytes <= 4_096, "{bytes}");
    }

    let preview = &batches[0][0].attributes;
    assert_eq!(preview["truncated"], true);
    assert_eq!(
        preview["truncated_fields"],
        json!(["attributes", "attributes.attributes_preview"])
    );
    let text = preview["attributes_preview"].as_str().unwrap();
    assert!(text.starts_with(r#"{"k0000":0,"k0001":1"#), "{text}");
    assert!(text.ends_with(" chars]"), "{text}");

    let sampled = &batches[1][0].attributes;
    assert_eq!(sampled["tool_name"], "Sampler");
    let output = sampled["tool_output"].as_str().unwrap();
    assert!(output.starts_with("[0,1,2,3"), "{output}");
    assert!(output.contains("…[truncated "), "{output}");
    assert_eq!(
        sampled["truncated_fields"],
        json!(["attributes.tool_output"])
    );
    assert!(matches!(sampled["truncated"], Value::Bool(true)));
}
