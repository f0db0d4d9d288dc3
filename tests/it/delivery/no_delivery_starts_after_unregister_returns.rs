//! After `unregister_hook` returns, no new delivery to that hook starts, even
//! while other threads keep emitting. Deliveries already running when it
//! returned may finish: at most one per emitting thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_center::{Event, EventCenter};

const EMITTERS: u64 = 2;

#[test]
fn a_hook_unregistered_under_load_stops_receiving() {
    let center = EventCenter::new();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..EMITTERS)
        .map(|i| {
            let center = center.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let emitter = center.emitter(format!("emitter-{i}"));
                let mut sent = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    emitter.emit("load.tick").send();
                    sent += 1;
                }
                sent
            })
        })
        .collect();

    for round in 0..20 {
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        let name = format!("short-lived-{round}");
        center
            .register_hook(name.clone(), "load.*", move |_: &Event| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        // Let it receive something first (bounded: a loaded machine may take
        // a while to schedule the emitters).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(center.unregister_hook(&name));
        let at_return = count.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        let later = count.load(Ordering::SeqCst);
        assert!(
            at_return > 0,
            "round {round}: the hook received nothing while registered"
        );
        assert!(
            later - at_return <= EMITTERS,
            "round {round}: {} deliveries after unregister returned",
            later - at_return
        );
    }

    stop.store(true, Ordering::Relaxed);
    let sent: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(sent > 0);
}
