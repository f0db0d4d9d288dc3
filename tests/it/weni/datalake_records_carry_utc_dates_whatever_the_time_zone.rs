//! A Datalake record mapped from an event carries the event's timestamp as
//! an ISO-8601 UTC date ending in `Z` whatever the process time zone (`TZ`
//! set to a zone far from UTC here), its payload's key, value type and value,
//! and `{}` as metadata when the event gave none.

use event_center::{DatalakeRecord, Event};
use serde_json::json;

#[test]
fn datalake_records_carry_utc_dates_whatever_the_time_zone() {
    // It sets or measures what the whole process shares.
    if crate::support::alone::ran_in_own_process(
        module_path!(),
        "datalake_records_carry_utc_dates_whatever_the_time_zone",
    ) {
        return;
    }
    // SAFETY: alone in its process (above), no other thread reads or
    // writes the environment.
    unsafe { std::env::set_var("TZ", "America/Sao_Paulo") };

    let event = Event::new(DatalakeRecord::EVENT_TYPE)
        .with_timestamp(1_767_225_599_999) // 2025-12-31 20:59:59.999 in Sao Paulo
        .with_payload(json!({
            "event_name": "weni_nexus_data",
            "key": "conversation_classification",
            "value_type": "string",
            "value": "resolved",
        }));
    let record = DatalakeRecord::from_event(&event).unwrap();

    assert_eq!(record.date, "2025-12-31T23:59:59.999Z");
    assert_eq!(
        serde_json::to_value(&record).unwrap(),
        json!({
            "event_name": "weni_nexus_data",
            "key": "conversation_classification",
            "value_type": "string",
            "value": "resolved",
            "metadata": {},
            "date": "2025-12-31T23:59:59.999Z",
        })
    );

    // A record built by a tool is dated the same way, and survives the trip
    // through an event.
    let built = DatalakeRecord::new("csat", "int", 5);
    assert!(built.date.ends_with('Z'), "{}", built.date);
    assert_eq!(built.date.len(), "2025-12-31T23:59:59.999Z".len());
    let center = event_center::EventCenter::new();
    let emitter = center.emitter("Tool");
    let captured = center.capture_sync(|| built.clone().register(&emitter));
    assert_eq!(DatalakeRecord::from_event(&captured.events[0]), Ok(built));
}
