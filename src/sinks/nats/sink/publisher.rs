//! The publisher: the sink's thread, which connects, publishes each event
//! with its ack awaited concurrently, and retries failed publishes.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, Context};
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;

use super::builder::NatsSinkBuilder;
use super::shared::{Outgoing, Settled, Shared};
use crate::sinks::nats::{backoff, bind_stream, connect, NatsError, NatsErrorKind};

/// Starts the sink's thread and waits until it is connected and the stream
/// is bound (or says why not).
pub(super) fn start(
    config: &NatsSinkBuilder,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Outgoing>,
) -> Result<JoinHandle<()>, NatsError> {
    let unavailable =
        |e: &dyn fmt::Display| NatsError::new(NatsErrorKind::ThreadUnavailable, e.to_string());
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let (url, stream, prefix) = (
        config.url.clone(),
        config.stream.clone(),
        config.prefix.clone(),
    );
    let (duplicate_window, window, close_timeout) =
        (config.duplicate_window, config.window, config.flush_timeout);
    let handle = std::thread::Builder::new()
        .name("event-center-nats".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(unavailable(&e)));
                    return;
                }
            };
            runtime.block_on(async move {
                let opened = async {
                    let client = connect(&url, "event-center sink").await?;
                    let js = jetstream::new(client);
                    bind_stream(&js, &stream, &prefix, duplicate_window).await?;
                    Ok::<_, NatsError>(js)
                };
                match opened.await {
                    Ok(js) => {
                        let _ = ready_tx.send(Ok(()));
                        let publisher = Publisher {
                            js,
                            shared,
                            window,
                            close_timeout,
                        };
                        publisher.run(rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| unavailable(&e))?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => {
            let _ = handle.join();
            Err(e)
        }
        Err(_) => Err(unavailable(&"the thread ended before connecting")),
    }
}

/// The sink's thread: publishes what the hook hands it and settles each
/// event as its ack comes.
struct Publisher {
    js: Context,
    shared: Arc<Shared>,
    window: usize,
    close_timeout: Duration,
}

impl Publisher {
    async fn run(self, mut rx: mpsc::Receiver<Outgoing>) {
        let mut inflight = FuturesUnordered::new();
        loop {
            let closing = self.shared.lock().closing;
            if closing.is_some() {
                // Take what the hook queued before the shutdown; no more.
                while inflight.len() < self.window {
                    match rx.try_recv() {
                        Ok(outgoing) => inflight.push(self.publish(outgoing)),
                        Err(_) => break,
                    }
                }
                if inflight.is_empty() && rx.is_empty() {
                    break;
                }
            }
            let deadline = tokio::time::Instant::from_std(closing.unwrap_or_else(Instant::now));
            tokio::select! {
                biased;
                Some(settled) = inflight.next(), if !inflight.is_empty() => {
                    self.shared.settle(settled);
                }
                outgoing = rx.recv(), if closing.is_none() && inflight.len() < self.window => {
                    match outgoing {
                        Some(outgoing) => inflight.push(self.publish(outgoing)),
                        // Every sink handle is gone: close as a guard would.
                        None => {
                            self.shared.begin_close(self.close_timeout);
                        }
                    }
                }
                () = self.shared.wake.notified(), if closing.is_none() => {}
                () = tokio::time::sleep_until(deadline), if closing.is_some() => break,
            }
        }
        // The deadline came, or everything settled: what is left is lost.
        rx.close();
        let mut left = inflight.len() as u64;
        while rx.try_recv().is_ok() {
            left += 1;
        }
        let mut s = self.shared.lock();
        s.stats.lost += left;
        s.stopped = true;
        drop(s);
        self.shared.settled.notify_all();
    }

    /// Publishes one event until the stream acknowledges it, retrying with
    /// a backoff; the same `Nats-Msg-Id` makes a retry of a publish that
    /// was in fact stored a duplicate, not a second copy.
    fn publish(&self, outgoing: Outgoing) -> impl Future<Output = Settled> {
        let js = self.js.clone();
        let shared = self.shared.clone();
        async move {
            let mut attempt = 0;
            loop {
                let sent = js
                    .send_publish(outgoing.subject.clone(), outgoing.publish.clone())
                    .await;
                let acked = match sent {
                    Ok(ack) => ack.await,
                    Err(e) => Err(e),
                };
                match acked {
                    Ok(ack) if ack.duplicate => return Settled::Duplicate,
                    Ok(_) => return Settled::Published,
                    Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                        shared.fail(&outgoing.subject, &e, false);
                        return Settled::Lost;
                    }
                    Err(e) => shared.fail(&outgoing.subject, &e, true),
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}
