//! `demo` listens for Ctrl-C and SIGTERM before it prints anything, so a
//! signal sent the moment it shows its address stops it cleanly (exit
//! status 0) instead of killing it.

use crate::support::Process;

#[test]
fn demo_stopped_as_soon_as_it_shows_its_address_stops_cleanly() {
    for round in 0..20 {
        let mut demo = Process::start(&["demo", "--port", "0"]);
        demo.wait_stdout("announcing the demo's URL", |l| {
            l.starts_with("event-center demo: open ")
        });
        demo.terminate();
        let status = demo.wait_exit();
        assert!(
            status.success(),
            "round {round}: {status}\n{}",
            demo.transcript()
        );
    }
}
