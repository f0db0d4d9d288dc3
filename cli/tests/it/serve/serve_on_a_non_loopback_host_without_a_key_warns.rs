//! `event-center serve` asked to listen beyond this machine without an API
//! key warns on standard error before it binds; on loopback it does not
//! warn. The non-loopback address is 192.0.2.1 (TEST-NET-1, assigned to no
//! machine), so binding it fails and no test server ever listens outside
//! 127.0.0.1.

use crate::support;

#[test]
fn serve_on_a_non_loopback_host_without_a_key_warns() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let outside = support::run(&[
        "serve",
        "--host",
        "192.0.2.1",
        "--port",
        "0",
        "--data-dir",
        data_dir,
    ]);
    let stderr = outside.err.join("\n");
    assert!(!outside.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("without an API key"),
        "{stderr}"
    );
    assert!(stderr.contains("192.0.2.1"), "{stderr}");

    let (mut local, _url) = support::serve(dir.path(), &[]);
    local.wait_stdout("the end of the banner", |l| l.starts_with("Press Ctrl-C"));
    local.terminate();
    let status = local.wait_exit();
    assert!(status.success(), "{status}\n{}", local.transcript());
    assert!(
        !local.err.iter().any(|l| l.contains("warning")),
        "{}",
        local.transcript()
    );
}
