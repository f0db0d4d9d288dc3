//! Emitting from several threads while another thread registers and
//! unregisters thousands of hooks loses no delivery to the hooks that stay.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter, Patterns};

const EMITTERS: usize = 4;
const PER_EMITTER: u64 = 20_000;
const CHURN: usize = 5_000;

fn counting_hook(center: &EventCenter, name: &'static str, patterns: &str) -> Arc<AtomicU64> {
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    center
        .register_hook(name, patterns, move |_: &Event| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    count
}

#[test]
fn stable_hooks_count_every_event_while_others_churn() {
    let started = Instant::now();
    let center = EventCenter::new();
    let exact = counting_hook(&center, "stable-exact", "work.item");
    let glob = counting_hook(&center, "stable-glob", "work.*");
    // A stable hook on another type: it must see nothing.
    let other = counting_hook(&center, "stable-other", "other.*");

    let barrier = Arc::new(Barrier::new(EMITTERS + 1));
    let emitting = Arc::new(AtomicBool::new(true));

    let emitters: Vec<_> = (0..EMITTERS)
        .map(|t| {
            let center = center.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                let emitter = center.emitter(format!("Emitter{t}"));
                barrier.wait();
                for i in 0..PER_EMITTER {
                    emitter.emit("work.item").payload(i).send();
                }
            })
        })
        .collect();

    let churner = {
        let center = center.clone();
        let barrier = barrier.clone();
        let emitting = emitting.clone();
        thread::spawn(move || {
            let patterns: [Patterns; 6] = [
                "work.item".into(),
                "work.*".into(),
                "*.item".into(),
                ["work.ite?", "nothing.here"].into(),
                Patterns::All,
                "unrelated.*".into(),
            ];
            barrier.wait();
            let mut rounds = 0;
            // At least CHURN rounds, and keep churning while emitters run.
            while rounds < CHURN || (emitting.load(Ordering::Relaxed) && rounds < 20 * CHURN) {
                let name = format!("churn-{rounds}");
                center
                    .register_hook(
                        name,
                        patterns[rounds % patterns.len()].clone(),
                        |_: &Event| {},
                    )
                    .unwrap();
                if rounds >= 8 {
                    assert!(center.unregister_hook(&format!("churn-{}", rounds - 8)));
                }
                rounds += 1;
            }
            for r in rounds.saturating_sub(8)..rounds {
                assert!(center.unregister_hook(&format!("churn-{r}")));
            }
            rounds
        })
    };

    for e in emitters {
        e.join().unwrap();
    }
    emitting.store(false, Ordering::Relaxed);
    let rounds = churner.join().unwrap();
    assert!(rounds >= CHURN);

    let expected = EMITTERS as u64 * PER_EMITTER;
    assert_eq!(exact.load(Ordering::Relaxed), expected);
    assert_eq!(glob.load(Ordering::Relaxed), expected);
    assert_eq!(other.load(Ordering::Relaxed), 0);

    assert_eq!(
        center.hook_names(),
        ["stable-exact", "stable-glob", "stable-other"]
    );
    let stats = center.stats();
    let delivered: Vec<(String, u64, u64)> = stats
        .hooks
        .iter()
        .map(|h| (h.name.clone(), h.delivered, h.failed))
        .collect();
    assert_eq!(
        delivered,
        [
            ("stable-exact".to_owned(), expected, 0),
            ("stable-glob".to_owned(), expected, 0),
            ("stable-other".to_owned(), 0, 0),
        ]
    );
    assert_eq!(stats.hook_failures, 0);
    assert_eq!(stats.recursion_cut, 0);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
