//! Every error-disposition hook is asked; one `Throw` among `Continue`s
//! rethrows the error, and only unanimous `Continue` swallows it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_center::{Decisions, ErrorDisposition, ErrorInfo, EventCenter};

#[test]
fn any_throw_verdict_wins_the_error_disposition() {
    let decisions = Decisions::new(&EventCenter::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = |verdict: fn(&ErrorInfo) -> ErrorDisposition| {
        let calls = calls.clone();
        move |e: &ErrorInfo| {
            calls.fetch_add(1, Ordering::SeqCst);
            verdict(e)
        }
    };
    decisions
        .on_error("lenient", counted(|_| ErrorDisposition::Continue))
        .unwrap();
    decisions
        .on_error(
            "fatal-throws",
            counted(|e| {
                if e.fatal == Some(true) {
                    ErrorDisposition::Throw
                } else {
                    ErrorDisposition::Continue
                }
            }),
        )
        .unwrap();
    decisions
        .on_error("also-lenient", counted(|_| ErrorDisposition::Continue))
        .unwrap();

    let fatal = ErrorInfo::new("Crash", "out of memory").with_fatal(true);
    assert_eq!(decisions.dispose(&fatal), ErrorDisposition::Throw);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "every hook is asked");

    let minor = ErrorInfo::new("Timeout", "slow").with_fatal(false);
    assert_eq!(decisions.dispose(&minor), ErrorDisposition::Continue);
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}
