//! A Weni-style tool that registers Datalake events while it executes, and
//! the framework that runs each execution in a capture and gets exactly that
//! execution's events back, even with executions running at once.
//!
//! Run: `cargo run --example weni_tool --features weni`

use std::time::Duration;

use event_center::{DatalakeBatch, DatalakeRecord, Emitter, EventCenter};

/// The tool: classifies a conversation and registers the classification
/// for the Datalake.
struct ClassifyConversation {
    events: Emitter,
}

impl ClassifyConversation {
    async fn execute(&self, contact_urn: &str, message: &str) -> Result<String, String> {
        if message.is_empty() {
            return Err("nothing to classify".into());
        }
        let classification = if message.to_lowercase().contains("help") {
            "unresolved"
        } else {
            "resolved"
        };
        // Some I/O: executions interleave here.
        tokio::time::sleep(Duration::from_millis(10)).await;

        DatalakeRecord::new("conversation_classification", "string", classification)
            .with_metadata("contact_urn", contact_urn)
            .with_metadata(
                "message_preview",
                message.chars().take(100).collect::<String>(),
            )
            .register(&self.events);

        Ok(classification.to_owned())
    }
}

#[tokio::main]
async fn main() {
    let center = EventCenter::new();
    let tool = std::sync::Arc::new(ClassifyConversation {
        events: center.emitter("ClassifyConversation"),
    });

    // The framework: three executions at once, each in its own capture.
    let calls = [
        ("whatsapp:+5511900000001", "thanks, all sorted"),
        ("whatsapp:+5511900000002", "I need help with my order"),
        ("whatsapp:+5511900000003", ""),
    ];
    let executions: Vec<_> = calls
        .into_iter()
        .map(|(contact, message)| {
            let tool = tool.clone();
            let center = center.clone();
            tokio::spawn(async move {
                center
                    .capture(async move { tool.execute(contact, message).await })
                    .await
            })
        })
        .collect();

    for (execution, (contact, _)) in executions.into_iter().zip(calls) {
        let captured = execution.await.expect("the execution task ran");
        let batch = DatalakeBatch::from_events(&captured.events);
        println!("{contact}: {:?}", captured.output);
        for record in &batch.records {
            println!(
                "  to the Datalake: {}",
                serde_json::to_string(record).unwrap()
            );
        }
        for rejected in &batch.rejected {
            println!("  dropped {}: {}", rejected.event_id, rejected.error);
        }
        assert!(
            batch.records.len() <= 1,
            "one execution, its own records only"
        );
    }
}
