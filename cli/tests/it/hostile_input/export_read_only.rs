//! `export` only reads: it works on a store in a directory it may not
//! write, whether the server that wrote it has stopped (no write-ahead
//! log left) or still runs on it (its log and shared memory in use), and
//! it leaves the directory as it found it.

use std::fs::Permissions;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support;

/// The user `export` runs as when the tests run as root (who may write any
/// directory): `nobody`.
const UNPRIVILEGED: u32 = 65_534;

/// Makes `dir` and every file in it read-only (or writable again).
fn set_read_only(dir: &Path, read_only: bool) {
    let (dir_mode, file_mode) = if read_only {
        (0o555, 0o444)
    } else {
        (0o755, 0o644)
    };
    if !read_only {
        std::fs::set_permissions(dir, Permissions::from_mode(dir_mode)).unwrap();
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        std::fs::set_permissions(&path, Permissions::from_mode(file_mode)).unwrap();
    }
    if read_only {
        std::fs::set_permissions(dir, Permissions::from_mode(dir_mode)).unwrap();
    }
}

/// The names and sizes in `dir`, to see that nothing was added or changed.
fn listing(dir: &Path) -> Vec<(String, u64)> {
    let mut names: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, entry.metadata().unwrap().len())
        })
        .collect();
    names.sort();
    names
}

/// Runs `event-center export --data-dir DIR` as a user who cannot write
/// `dir` (this one, or `nobody` when the tests run as root), bounded;
/// returns whether it succeeded, its standard output and its standard
/// error.
fn export_as_reader(root: &Path, dir: &Path) -> (bool, String, String) {
    let mut command = Command::new(support::BIN);
    command
        .args(["export", "--data-dir", dir.to_str().unwrap()])
        .env_remove("EVENT_CENTER_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let probe = root.join("whoami");
    std::fs::write(&probe, "").unwrap();
    if std::fs::metadata(&probe).unwrap().uid() == 0 {
        // Root ignores permissions: drop to a user they apply to, who
        // must still reach the directory.
        std::fs::set_permissions(root, Permissions::from_mode(0o755)).unwrap();
        command.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    }
    let mut child = command.spawn().expect("start the event-center binary");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).map(|_| text)
    });
    let deadline = Instant::now() + support::WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("export did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status.success(),
        out.join().unwrap().unwrap(),
        err.join().unwrap().unwrap(),
    )
}

/// Posts `count` events with ids from `first`.
fn post_events(url: &str, first: u64, count: u64) {
    let events: Vec<serde_json::Value> = (first..first + count)
        .map(|i| serde_json::from_str(&support::event_line(i)).unwrap())
        .collect();
    let (status, body) = support::post(
        &format!("{url}/observation/ingest"),
        None,
        &json!({ "events": events }),
    );
    assert_eq!(status, 200, "{body}");
}

/// The event ids of exported JSONL text.
fn ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            event["event_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn expected_ids(count: u64) -> Vec<String> {
    (0..count).map(|i| format!("{:032x}", i + 1)).collect()
}

#[test]
fn export_reads_a_read_only_store_beside_its_running_server_and_after_it_stopped() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("store");
    let (mut serve, url) = support::serve(&dir, &[]);
    post_events(&url, 0, 40);

    // While the server runs: its log and shared memory are in use, and
    // must be read (an immutable open would miss what the log holds).
    set_read_only(&dir, true);
    let (ok, out, err) = export_as_reader(root.path(), &dir);
    set_read_only(&dir, false);
    assert!(ok, "export failed beside a running server: {err}");
    assert_eq!(ids(&out), expected_ids(40));

    // The server was not disturbed: it still stores, and stops cleanly.
    post_events(&url, 40, 10);
    assert_eq!(support::run_event_count(&url, "run-0"), 17);
    serve.terminate();
    assert!(serve.wait_exit().success(), "{}", serve.transcript());

    // After it stopped: no log is left, and none can be made.
    set_read_only(&dir, true);
    let before = listing(&dir);
    let (ok, out, err) = export_as_reader(root.path(), &dir);
    let after = listing(&dir);
    set_read_only(&dir, false);
    assert!(ok, "export failed on a read-only directory: {err}");
    assert!(err.contains("exported 50 events"), "export said: {err}");
    assert_eq!(ids(&out), expected_ids(50));
    assert_eq!(after, before, "export changed the directory");
}
