//! Bytes as an `POST /observation/ingest` body.
//!
//! The server's body parser (through `event_center::fuzz_ingest_body`, its
//! hidden test entry point) never panics, whatever the bytes; every event
//! it accepts is stored as one line of JSON text that serde_json reads (no
//! deeper than its nesting limit) and that parses as an `Event` unless it
//! holds a lone surrogate; and parsing is idempotent: a body made of the
//! stored events gives back the same texts, so redaction masks nothing
//! twice and normalization fills nothing twice.

#![no_main]

use event_center::{fuzz_ingest_body, Event};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

fuzz_target!(|data: &[u8]| {
    for redact in [true, false] {
        let Some(stored) = fuzz_ingest_body(data, redact) else {
            continue;
        };
        for text in &stored {
            assert!(!text.contains('\n'), "a stored event spans lines: {text}");
            serde_json::from_str::<IgnoredAny>(text)
                .unwrap_or_else(|e| panic!("stored text is not JSON ({e}): {text}"));
            if let Err(error) = Event::parse(text) {
                let message = error.to_string();
                assert!(
                    !message.contains("recursion limit"),
                    "stored an event nested too deep: {message}"
                );
            }
        }
        if stored.is_empty() {
            continue;
        }
        let again = format!("{{\"events\":[{}]}}", stored.join(","));
        let twice = fuzz_ingest_body(again.as_bytes(), redact)
            .expect("a body of stored events is accepted");
        assert_eq!(
            twice, stored,
            "parsing the stored events again changed them"
        );
    }
});
