//! An agent run logged to a JSONL file: the sink writes on its own worker
//! (the agent never waits on the disk), rotates at a size, and its guard
//! flushes at the end; then the file is read back, as a replay or an import
//! would, and a damaged copy shows how bad and truncated lines are reported.
//!
//! Run with `cargo run --features jsonl --example jsonl_sink`.

use std::io::Write;
use std::time::Duration;

use event_center::{read_jsonl, EventCenter, FsyncPolicy, JsonlSink, Level, RunContext};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("event-center-jsonl-{}", std::process::id()));
    let path = dir.join("events.jsonl");
    let center = EventCenter::new();

    // Everything but the `tool.*` compatibility twins of `action.*` events,
    // in files of at most 64 KiB, three kept; fsynced on flush.
    let guard = JsonlSink::builder(&path)
        .with_patterns(["action.*", "model.*", "runtime.*", "event_center.*"])
        .with_rotation(64 * 1024, 3)
        .with_fsync(FsyncPolicy::OnFlush)
        .register(&center, "jsonl")?;

    let run = RunContext::new("agent_execution").with_agent_name("planner");
    let emitter = center.emitter("Planner").with_run(run.clone());
    emitter
        .emit("action.loop_started")
        .payload(json!({"goal": "book a flight"}))
        .send();
    for step in 0..1_000 {
        emitter
            .emit("model.completed")
            .run(run.child("model_request"))
            .payload(json!({"step": step, "tokens": 40 + step % 17}))
            .send();
    }
    emitter
        .emit("action.loop_completed")
        .level(Level::Info)
        .message("done")
        .send();

    // Waits for the sink's queue, writes the buffer and fsyncs.
    let report = guard.flush(Duration::from_secs(5));
    let stats = guard.stats();
    println!(
        "delivered {} events; {} lines in {} bytes, {} rotations, {} fsyncs, {} lost",
        report.delivered, stats.written, stats.bytes, stats.rotations, stats.fsyncs, stats.lost
    );
    if let Some(error) = &stats.last_error {
        println!("the last write error: {error}");
    }
    guard.shutdown(Duration::from_secs(5));

    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    files.sort();
    println!("files kept: {}", files.join(", "));

    // Read the newest file back, as a replay would.
    let read = read_jsonl(&path)?;
    let last = read.events.last().ok_or("the newest file is empty")?;
    println!(
        "{}: {} events, the last `{}` from {}",
        path.display(),
        read.events.len(),
        last.event_type,
        last.source
    );
    assert_eq!(last.event_type, "action.loop_completed");

    // A copy with a bad line in the middle and a last line cut short: the
    // good lines are kept, the bad one is named by its number.
    let damaged = dir.join("damaged.jsonl");
    let mut copy = std::fs::File::create(&damaged)?;
    let text = std::fs::read_to_string(&path)?;
    let mut lines = text.lines();
    writeln!(copy, "{}", lines.next().ok_or("no lines")?)?;
    writeln!(copy, "{{\"event_type\": 42}}")?;
    writeln!(copy, "{}", lines.next().ok_or("one line only")?)?;
    write!(copy, "{{\"event_id\": \"0190")?;
    drop(copy);
    let read = read_jsonl(&damaged)?;
    println!(
        "damaged copy: {} events kept, bad lines: [{}], truncated tail: {}",
        read.events.len(),
        read.bad_lines
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        read.truncated_tail
    );
    assert_eq!((read.events.len(), read.bad_lines[0].line), (2, 2));
    assert!(read.truncated_tail);

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
