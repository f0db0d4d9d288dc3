use std::error::Error;
use std::fmt;

use event_center::{EventCenter, EventCenterLayer};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug)]
struct Outer(std::io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not load the prompt")
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn an_error_field_becomes_the_events_error_with_its_cause_chain() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "failures", "prompt.*");

    let error = Outer(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "prompt.txt missing",
    ));
    let layer = EventCenterLayer::new(&center);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(
            event_type = "prompt.load_failed",
            error = &error as &(dyn Error + 'static),
            "loading failed"
        );
    });

    let seen = seen.lock().unwrap();
    let event = &seen[0];
    assert_eq!(event.level, event_center::Level::Error);
    assert_eq!(event.payload["error"], "could not load the prompt");
    let info = event.error.as_ref().expect("an ErrorInfo");
    assert_eq!(info.message, "could not load the prompt");
    let traceback = info.traceback.as_deref().unwrap();
    assert!(
        traceback.contains("Caused by: prompt.txt missing"),
        "{traceback}"
    );
}
