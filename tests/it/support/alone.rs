//! A test run by itself in a child process (this test binary again, with
//! only that test), for the tests that set or measure what a whole process
//! shares: its global `tracing` subscriber, its environment, its resident
//! memory, its list of threads. The other tests of the binary run beside
//! each other in one process and would disturb them.

use std::process::{Command, Stdio};

/// The child runs the test whose path this variable holds.
const CHILD_ENV: &str = "EVENT_CENTER_TEST_ALONE";

/// Call first in the test `name` of the module `module` (its
/// `module_path!()`). In the test binary, runs that test alone in a child
/// process, fails if it fails there, and returns true: the caller returns.
/// In that child, returns false: the caller runs the test's body.
pub fn ran_in_own_process(module: &str, name: &str) -> bool {
    // libtest names a test by its path without the crate's name.
    let module = module.split_once("::").map_or("", |(_, m)| m);
    let test = format!("{module}::{name}");
    if std::env::var(CHILD_ENV).is_ok_and(|running| running == test) {
        return false;
    }
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &test)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    assert!(
        output.status.success(),
        "{test} failed in its own process: {}",
        output.status
    );
    // A name that matched nothing would pass with no test run.
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in its own process"
    );
    true
}
