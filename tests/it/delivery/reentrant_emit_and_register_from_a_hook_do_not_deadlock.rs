//! A hook may emit, register and unregister (itself included) from inside its
//! callback without deadlock, and a hook that re-emits its own type forever is
//! cut at a fixed depth and counted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use event_center::{Event, EventCenter};

/// Runs `f` on its own thread; a deadlock fails the test instead of hanging it.
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("deadlock: no answer within 10 s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the test thread panicked"),
    }
}

fn delivered(center: &EventCenter, name: &str) -> u64 {
    center
        .stats()
        .hooks
        .iter()
        .find(|h| h.name == name)
        .map_or(0, |h| h.delivered)
}

#[test]
fn a_hook_emits_registers_and_unregisters_itself_from_its_callback() {
    let center = EventCenter::new();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();

    let sink = log.clone();
    center
        .register_hook("inner", "inner.*", move |e: &Event| {
            sink.lock()
                .unwrap()
                .push(format!("inner got {}", e.event_type));
        })
        .unwrap();

    let handle = center.clone();
    let sink = log.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    center
        .register_hook("reentrant", "start.*", move |e: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
            sink.lock()
                .unwrap()
                .push(format!("reentrant got {}", e.event_type));
            handle.emitter("Reentrant").emit("inner.event").send();
            let late_sink = sink.clone();
            handle
                .register_hook("late", "after.*", move |e: &Event| {
                    late_sink
                        .lock()
                        .unwrap()
                        .push(format!("late got {}", e.event_type));
                })
                .unwrap();
            assert!(handle.unregister_hook("reentrant"));
            sink.lock().unwrap().push("reentrant done".to_owned());
        })
        .unwrap();

    let center_in_thread = center.clone();
    within_10s(move || {
        let emitter = center_in_thread.emitter("Test");
        emitter.emit("start.one").send();
        // Unregistered by itself: not called again.
        emitter.emit("start.two").send();
        emitter.emit("after.one").send();
    });

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(center.hook_names(), ["inner", "late"]);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "reentrant got start.one",
            "inner got inner.event",
            "reentrant done",
            "late got after.one",
        ]
    );
    assert_eq!(center.stats().recursion_cut, 0);
    assert_eq!(center.stats().hook_failures, 0);
}

#[test]
fn hooks_on_many_threads_register_and_unregister_from_callbacks() {
    let center = EventCenter::new();
    let handle = center.clone();
    center
        .register_hook("churner", "churn.*", move |e: &Event| {
            let name = format!("temp-{}", e.event_id);
            handle
                .register_hook(name.clone(), "temp.*", |_: &Event| {})
                .unwrap();
            handle.emitter("Churner").emit("temp.event").send();
            assert!(handle.unregister_hook(&name));
        })
        .unwrap();

    let c = center.clone();
    within_10s(move || {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || {
                    let emitter = c.emitter("T");
                    for _ in 0..200 {
                        emitter.emit("churn.go").send();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });

    assert_eq!(delivered(&center, "churner"), 800);
    assert_eq!(center.hook_names(), ["churner"]);
    assert_eq!(center.stats().hook_failures, 0);
}

#[test]
fn a_hook_that_re_emits_its_own_type_forever_is_cut() {
    let center = EventCenter::new();
    let handle = center.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    center
        .register_hook("echo", "loop.ping", move |_: &Event| {
            counter.fetch_add(1, Ordering::SeqCst);
            handle.emitter("Echo").emit("loop.ping").send();
        })
        .unwrap();

    let c = center.clone();
    within_10s(move || c.emitter("Test").emit("loop.ping").send());

    let first = calls.load(Ordering::SeqCst);
    assert!(first >= 2, "the hook re-emitted at least once: {first}");
    assert!(first <= 1_000, "the recursion was cut early: {first}");
    let stats = center.stats();
    assert_eq!(stats.recursion_cut, 1, "one runaway chain, cut once");
    assert_eq!(delivered(&center, "echo"), first as u64);
    assert_eq!(stats.hook_failures, 0);

    // The depth is restored: a second emit goes exactly as deep again.
    let c = center.clone();
    within_10s(move || c.emitter("Test").emit("loop.ping").send());
    assert_eq!(calls.load(Ordering::SeqCst), 2 * first);
    assert_eq!(center.stats().recursion_cut, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_hook_re_emitting_with_send_async_is_cut() {
    let center = EventCenter::new();
    let handle = center.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    center
        .register_async_hook("echo", "aloop.ping", move |_: Arc<Event>| {
            let handle = handle.clone();
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let emitter = handle.emitter("Echo");
                emitter.emit("aloop.ping").send_async().await;
            }
        })
        .unwrap();

    let emitter = center.emitter("Test");
    let emit = emitter.emit("aloop.ping").send_async();
    tokio::time::timeout(Duration::from_secs(10), emit)
        .await
        .expect("deadlock: send_async did not return within 10 s");

    let calls = calls.load(Ordering::SeqCst);
    assert!((2..=1_000).contains(&calls), "{calls}");
    assert_eq!(center.stats().recursion_cut, 1);
}

#[test]
fn an_async_hook_re_emitting_with_send_on_its_worker_is_cut() {
    // The same runaway loop, but the async hook's events go through its
    // worker queue instead of the stack. It must be cut and counted too.
    const GIVE_UP: usize = 10_000;
    let center = EventCenter::new();
    let handle = center.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    center
        .register_async_hook("echo", "wloop.ping", move |_: Arc<Event>| {
            let handle = handle.clone();
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if n >= GIVE_UP {
                    // Stop the loop so a failing run does not spin forever.
                    handle.unregister_hook("echo");
                } else {
                    handle.emitter("Echo").emit("wloop.ping").send();
                }
            }
        })
        .unwrap();

    center.emitter("Test").emit("wloop.ping").send();

    // Wait until the loop settles: no new call for 200 ms, at most 10 s.
    let start = Instant::now();
    let mut last = 0;
    let mut quiet_since = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
        let now = calls.load(Ordering::SeqCst);
        if now != last {
            last = now;
            quiet_since = Instant::now();
        } else if now > 0 && quiet_since.elapsed() > Duration::from_millis(200) {
            break;
        }
    }
    let calls = calls.load(Ordering::SeqCst);
    assert!(
        calls < GIVE_UP,
        "the runaway loop through the worker queue was never cut ({calls} calls)"
    );
    assert!(calls >= 2, "{calls}");
    assert_eq!(center.stats().recursion_cut, 1);
}
