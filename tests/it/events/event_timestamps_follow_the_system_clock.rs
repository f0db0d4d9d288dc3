//! Timestamps are Unix milliseconds that agree with the system clock, across
//! the periodic re-anchoring of the fast clock (every 100 ms per thread).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use event_center::{Event, EventCenter};

fn system_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn every_timestamp_lies_between_clock_readings_taken_around_its_emit() {
    let center = EventCenter::new();
    let stamps = Arc::new(Mutex::new(Vec::new()));
    let sink = stamps.clone();
    center
        .register_hook("stamps", "tick", move |e: &Event| {
            sink.lock().unwrap().push(e.timestamp)
        })
        .unwrap();
    let emitter = center.emitter("Clock");

    // About 1.5 s in steps of 7 ms: crosses many re-anchorings.
    for _ in 0..210 {
        let before = system_millis();
        emitter.emit("tick").send();
        let after = system_millis();
        let stamp = *stamps.lock().unwrap().last().unwrap();
        assert!(
            before - 1 <= stamp && stamp <= after + 1,
            "timestamp {stamp} outside [{before}, {after}]"
        );
        std::thread::sleep(Duration::from_millis(7));
    }
    let stamps = stamps.lock().unwrap();
    assert_eq!(stamps.len(), 210);
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1] + 1),
        "timestamps ran backwards"
    );
}
