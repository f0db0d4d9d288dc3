//! The live streams' feed: the batches of newly stored events, in commit
//! order, in a ring bounded in bytes that every subscriber reads with a
//! cursor of its own.
//!
//! The storage thread publishes each committed batch; the oldest batches
//! leave the ring once it holds more than its byte cap (the newest batch
//! always stays). A subscriber takes one event at a time and holds no batch
//! while it waits for its client, so a subscriber that never reads holds
//! nothing of the server's memory but the event it is sending. One that
//! fell behind the ring's oldest event skips to it and is told how many
//! events it skipped (the server counts them all, for `/healthz`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::ingest::NewEvent;

/// A batch of newly stored events, in commit order.
pub(crate) type Published = Arc<Vec<NewEvent>>;

/// What a subscriber gets next.
pub(crate) enum Next<T> {
    /// The next event it wants, as `make` built it.
    Event(T),
    /// It fell behind: this many events were skipped.
    Gap(u64),
    /// The feed was closed.
    Closed,
}

struct Ring {
    /// The batches with the position of their first event.
    batches: VecDeque<(u64, Published, usize)>,
    /// The position of the next event to be published.
    end: u64,
    bytes: usize,
}

/// The bounded feed of published batches.
pub(crate) struct Feed {
    ring: Mutex<Ring>,
    cap: usize,
    /// The end position, for waking subscribers.
    published: watch::Sender<u64>,
    skipped: AtomicU64,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

/// What an event takes in the ring: its JSON text and its record.
fn footprint(batch: &[NewEvent]) -> usize {
    batch
        .iter()
        .map(|e| e.json.len() + std::mem::size_of::<NewEvent>() + 64)
        .sum()
}

impl Feed {
    /// A feed holding at most `cap` bytes of events (and always the newest
    /// batch).
    pub(crate) fn new(cap: usize) -> Self {
        Feed {
            ring: Mutex::new(Ring {
                batches: VecDeque::new(),
                end: 0,
                bytes: 0,
            }),
            cap,
            published: watch::channel(0).0,
            skipped: AtomicU64::new(0),
        }
    }

    /// Publishes a committed batch; the oldest leave beyond the cap.
    pub(crate) fn publish(&self, batch: Vec<NewEvent>) {
        if batch.is_empty() {
            return;
        }
        let size = footprint(&batch);
        let end = {
            let Ok(mut ring) = self.ring.lock() else {
                return;
            };
            let start = ring.end;
            ring.end += batch.len() as u64;
            ring.bytes += size;
            ring.batches.push_back((start, Arc::new(batch), size));
            while ring.bytes > self.cap && ring.batches.len() > 1 {
                if let Some((_, _, size)) = ring.batches.pop_front() {
                    ring.bytes -= size;
                }
            }
            ring.end
        };
        self.published.send_replace(end);
    }

    /// Wakes every subscriber to end: `next` answers `Closed` from now on.
    pub(crate) fn close(&self) {
        self.published.send_replace(u64::MAX);
    }

    /// A subscriber that receives what is published from now on.
    pub(crate) fn subscribe(self: &Arc<Self>) -> Subscriber {
        let cursor = self.ring.lock().map_or(0, |ring| ring.end);
        Subscriber {
            feed: Arc::clone(self),
            cursor,
            woken: self.published.subscribe(),
        }
    }

    /// Events subscribers have skipped since the server started.
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// The batch holding position `cursor`, or how far `cursor` is behind
    /// the oldest held event; `None` when nothing is there yet.
    fn at(&self, cursor: u64) -> Option<Result<(u64, Published), u64>> {
        let ring = self.ring.lock().ok()?;
        let (first, _, _) = ring.batches.front()?;
        if cursor < *first {
            return Some(Err(*first - cursor));
        }
        if cursor >= ring.end {
            return None;
        }
        let index = ring
            .batches
            .partition_point(|(start, _, _)| *start <= cursor)
            - 1;
        let (start, batch, _) = &ring.batches[index];
        Some(Ok((*start, Arc::clone(batch))))
    }
}

/// One subscriber's place in the feed.
pub(crate) struct Subscriber {
    feed: Arc<Feed>,
    /// The position of the next event to look at.
    cursor: u64,
    woken: watch::Receiver<u64>,
}

impl Subscriber {
    /// The next event `make` accepts (it returns `None` for events the
    /// subscriber does not want), a gap, or the end. Holds no batch while
    /// it waits.
    pub(crate) async fn next<T>(
        &mut self,
        mut make: impl FnMut(&NewEvent) -> Option<T>,
    ) -> Next<T> {
        loop {
            if *self.woken.borrow_and_update() == u64::MAX {
                return Next::Closed;
            }
            match self.feed.at(self.cursor) {
                Some(Err(skipped)) => {
                    self.cursor += skipped;
                    self.feed.skipped.fetch_add(skipped, Ordering::Relaxed);
                    return Next::Gap(skipped);
                }
                Some(Ok((start, batch))) => {
                    let from = (self.cursor - start) as usize;
                    for (i, event) in batch.iter().enumerate().skip(from) {
                        if let Some(made) = make(event) {
                            self.cursor = start + i as u64 + 1;
                            return Next::Event(made);
                        }
                    }
                    self.cursor = start + batch.len() as u64;
                    continue;
                }
                None => {}
            }
            if self.woken.changed().await.is_err() {
                return Next::Closed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devtools::ingest::parse_rust_events;
    use crate::Event;

    fn batch(n: usize) -> Vec<NewEvent> {
        let events: Vec<Event> = (0..n).map(|_| Event::new("a.b")).collect();
        parse_rust_events(&events, &crate::Redaction::none()).unwrap()
    }

    #[tokio::test]
    async fn a_lagging_subscriber_skips_to_the_oldest_held_event_and_counts_the_gap() {
        let one = footprint(&batch(1));
        let feed = Arc::new(Feed::new(one * 10));
        let mut slow = feed.subscribe();
        let mut fast = feed.subscribe();
        for _ in 0..30 {
            feed.publish(batch(1));
            assert!(matches!(fast.next(|_| Some(())).await, Next::Event(())));
        }
        assert!(matches!(slow.next(|_| Some(())).await, Next::Gap(20)));
        for _ in 0..10 {
            assert!(matches!(slow.next(|_| Some(())).await, Next::Event(())));
        }
        assert_eq!(feed.skipped(), 20);
        feed.close();
        assert!(matches!(slow.next(|_| Some(())).await, Next::Closed));
    }

    #[tokio::test]
    async fn the_newest_batch_stays_whatever_its_size() {
        let feed = Arc::new(Feed::new(1));
        let mut sub = feed.subscribe();
        feed.publish(batch(3));
        let mut seen = 0;
        while seen < 3 {
            match sub.next(|e| Some(e.event_type.clone())).await {
                Next::Event(t) => {
                    assert_eq!(t, "a.b");
                    seen += 1;
                }
                _ => panic!("three events, no gap"),
            }
        }
    }
}
