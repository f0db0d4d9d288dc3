//! An error-disposition hook that panics makes the error rethrown, even when
//! every other hook would swallow it, and the panic is reported as
//! `event_center.hook_failed`.

use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};

#[test]
fn a_panicking_disposition_hook_rethrows_and_is_reported() {
    let center = EventCenter::new();
    let reports = crate::support::record(&center, "alerts", "event_center.hook_failed");

    let decisions = Decisions::new(&center);
    decisions
        .on_error("swallow", |_: &ErrorInfo| ErrorDisposition::Continue)
        .unwrap();
    decisions
        .on_error("classifier", |_: &ErrorInfo| -> ErrorDisposition {
            panic!("classifier model missing")
        })
        .unwrap();

    let error = ErrorInfo::new("Timeout", "slow upstream").with_retryable(true);
    assert_eq!(decisions.dispose(&error), ErrorDisposition::Throw);

    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].payload["hook"], "classifier");
    assert_eq!(reports[0].payload["event_type"], "decision.error.thrown");
    assert_eq!(
        reports[0].error.as_ref().map(|e| e.message.as_str()),
        Some("classifier model missing")
    );
    drop(reports);

    // Without the failing hook, the same error is swallowed.
    assert!(decisions.errors().remove("classifier"));
    assert_eq!(decisions.dispose(&error), ErrorDisposition::Continue);
}
