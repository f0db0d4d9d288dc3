//! With an API key set, every `/observation` request must carry it as
//! `Authorization: Bearer K` (or the bare key), `X-API-Key: K` or
//! `?api_key=K`, as Agently DevTools takes it (the first one given counts);
//! anything else gets 401 `{"detail": "Invalid API key."}`, streams
//! included. `/healthz` is open.

use crate::support::observation_server::{agent, answer, TestServer};
use serde_json::json;

const KEY: &str = "s3cret-key";

#[test]
fn the_api_key_is_taken_in_three_forms_and_anything_else_gets_401() {
    let server = TestServer::with(|builder| builder.with_api_key(KEY));
    let agent = agent();
    let url = |path: &str| format!("{}{path}", server.url());
    let body = json!({"events": [{"event_type": "auth.checked"}]}).to_string();

    let accepted = [
        ("Authorization", format!("Bearer {KEY}")),
        ("Authorization", format!("bearer {KEY}")),
        ("Authorization", KEY.to_owned()),
        ("X-API-Key", KEY.to_owned()),
    ];
    for (header, value) in &accepted {
        let (status, reply) = answer(
            agent
                .post(&url("/observation/ingest"))
                .set("Content-Type", "application/json")
                .set(header, value)
                .send_string(&body),
        );
        assert_eq!(status, 200, "{header}: {value} -> {reply}");
        let (status, _) = answer(
            agent
                .get(&url("/observation/runs"))
                .set(header, value)
                .call(),
        );
        assert_eq!(status, 200, "{header}: {value}");
    }
    let (status, _) = answer(
        agent
            .get(&url(&format!("/observation/events/recent?api_key={KEY}")))
            .call(),
    );
    assert_eq!(status, 200);

    let refused = [
        agent.get(&url("/observation/runs")).call(),
        agent
            .get(&url("/observation/runs"))
            .set("Authorization", "Bearer wrong")
            .call(),
        agent
            .get(&url("/observation/runs"))
            .set("X-API-Key", "")
            .call(),
        agent
            .get(&url("/observation/events/recent?api_key=s3cret"))
            .call(),
        agent
            .get(&url(&format!("/observation/runs?api_key={KEY}")))
            .set("Authorization", "Bearer wrong")
            .call(),
        agent
            .post(&url("/observation/ingest"))
            .set("Content-Type", "application/json")
            .send_string(&body),
        agent.get(&url("/observation/stream")).call(),
        agent.get(&url("/observation/ws")).call(),
        agent.get(&url("/observation/runs/x/tree")).call(),
    ];
    for result in refused {
        let (status, reply) = answer(result);
        assert_eq!(status, 401);
        assert_eq!(reply, json!({"detail": "Invalid API key."}));
    }
    let (_, recent) = answer(
        agent
            .get(&url("/observation/events/recent"))
            .set("X-API-Key", KEY)
            .call(),
    );
    assert_eq!(
        recent["data"].as_array().unwrap().len(),
        4,
        "only the accepted posts stored"
    );

    let (status, health) = answer(agent.get(&url("/healthz")).call());
    assert_eq!(status, 200);
    assert_eq!(health["data"]["ok"], true);
}
