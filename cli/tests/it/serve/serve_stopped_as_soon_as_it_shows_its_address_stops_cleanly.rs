//! A service manager may stop `serve` the moment it shows its address:
//! Ctrl-C and SIGTERM are listened for before the first line is printed,
//! so the server always shuts down cleanly (store closed, exit status 0)
//! instead of being killed by the signal's default action.

use crate::support;

#[test]
fn serve_stopped_as_soon_as_it_shows_its_address_stops_cleanly() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, _url) = support::serve(dir.path(), &[]);
        server.terminate();
        let status = server.wait_exit();
        assert!(
            status.success(),
            "round {round}: {status}\n{}",
            server.transcript()
        );
        assert!(
            server.out.iter().any(|l| l == "event-center: stopped"),
            "round {round}:\n{}",
            server.transcript()
        );
    }
}
