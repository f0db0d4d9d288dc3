//! Turning one execution's captured events into Datalake records keeps
//! every valid record in order, drops only the invalid one, and counts and
//! lists it with its violations and event id; events that are not record
//! registrations are not records and do not count as dropped.

use event_center::{DatalakeBatch, DatalakeRecord, EventCenter};
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn a_datalake_batch_drops_only_the_bad_record_and_counts_it() {
    let center = EventCenter::new();
    let tool = center.emitter("ClassifyConversation");

    let captured = center
        .capture(async {
            tool.info("classifying").send();
            DatalakeRecord::new("conversation_classification", "string", "resolved")
                .with_metadata("contact_urn", "whatsapp:+5511999999999")
                .register(&tool);
            let mut typo = DatalakeRecord::new("csat", "int", 5);
            typo.event_name = "weni_nexus_dat".into();
            typo.register(&tool);
            tool.emit(DatalakeRecord::EVENT_TYPE)
                .payload(json!({
                    "event_name": "weni_nexus_data",
                    "key": "order_placed",
                    "value_type": "string",
                    "value": "completed",
                }))
                .send();
        })
        .await;

    assert_eq!(captured.events.len(), 4);
    let batch = DatalakeBatch::from_events(&captured.events);

    let keys: Vec<_> = batch.records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["conversation_classification", "order_placed"]);
    assert_eq!(
        batch.records[0].metadata["contact_urn"],
        "whatsapp:+5511999999999"
    );
    assert_eq!(batch.dropped(), 1);
    let rejected = &batch.rejected[0];
    assert_eq!(rejected.event_id, captured.events[2].event_id);
    assert_eq!(rejected.error.violations().len(), 1);
    assert_eq!(rejected.error.violations()[0].field(), "event_name");
}
