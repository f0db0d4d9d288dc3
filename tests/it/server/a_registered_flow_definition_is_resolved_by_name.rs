//! `POST /observation/flows/register` stores a flow definition and answers
//! Agently's payload; `GET /observation/flows/resolve` finds it by app,
//! group and name, falling back from the group's definition to the
//! app-level one, answers 404 with Agently's text for an unknown name, 422
//! naming `flow_name` for a blank or missing one, and 401 without the API
//! key, as every other route.

use crate::support::observation_server::{agent, answer, now_ms, TestServer};
use serde_json::{json, Value};

const KEY: &str = "flow-key";
const REGISTER: &str = "/observation/flows/register";

/// The `[type, loc]` of each error in a 422 body.
fn named(body: &Value) -> Vec<(Value, Value)> {
    body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("no error list in {body}"))
        .iter()
        .map(|e| (e["type"].clone(), e["loc"].clone()))
        .collect()
}

#[test]
fn a_registered_flow_definition_is_resolved_by_name() {
    let server = TestServer::with_key(KEY);
    let before = now_ms();
    let app_level = json!({
        "app_id": "shop", "flow_name": " checkout ",
        "definition": {"nodes": ["cart", "pay"], "edges": [["cart", "pay"]]},
        "mermaid": {"graph": "graph TD; cart-->pay"},
    });
    let (status, reply) = server.post_text(REGISTER, &app_level.to_string());
    assert_eq!(status, 200, "{reply}");
    let payload = &reply["data"];
    let registered_at = payload["registered_at"].as_i64().expect("registered_at");
    assert!((before..=now_ms()).contains(&registered_at));
    assert_eq!(
        reply,
        json!({"status": 200, "msg": null, "data": {
            "app_id": "shop", "group_id": null, "flow_name": "checkout",
            "definition": app_level["definition"], "registered_at": registered_at,
            "mermaid": {"graph": "graph TD; cart-->pay"},
        }})
    );

    let grouped = json!({
        "app_id": "shop", "group_id": "beta", "flow_name": "checkout",
        "definition": {"nodes": ["cart", "review", "pay"]}, "mermaid": {},
    });
    let (status, reply) = server.post_text(REGISTER, &grouped.to_string());
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["data"]["group_id"], "beta");
    assert!(reply["data"].get("mermaid").is_none(), "{reply}");
    let grouped_payload = reply["data"].clone();

    let resolve = |query: &str| server.get(&format!("/observation/flows/resolve?{query}"));
    assert_eq!(
        resolve("flow_name=checkout&app_id=shop&group_id=beta").1["data"],
        grouped_payload
    );
    assert_eq!(
        resolve("flow_name=checkout&app_id=shop&group_id=gamma").1["data"],
        *payload
    );
    assert_eq!(
        resolve("flow_name=%20checkout&app_id=shop").1["data"],
        *payload
    );
    assert_eq!(
        resolve("flow_name=checkout"),
        (
            404,
            json!({"detail": "Flow definition 'checkout' not found."})
        )
    );
    assert_eq!(
        resolve("flow_name=refund&app_id=shop"),
        (
            404,
            json!({"detail": "Flow definition 'refund' not found."})
        )
    );

    // Bad input: 422 naming the field, nothing stored.
    let (status, reply) = server.post_text(
        REGISTER,
        &json!({"app_id": "shop", "flow_name": "  ", "definition": {}}).to_string(),
    );
    assert_eq!(status, 422, "{reply}");
    assert_eq!(
        named(&reply),
        [(json!("string_too_short"), json!(["body", "flow_name"]))]
    );
    let (status, reply) = server.post_text(REGISTER, &json!({"definition": [1]}).to_string());
    assert_eq!(status, 422, "{reply}");
    assert_eq!(
        named(&reply),
        [
            (json!("missing"), json!(["body", "flow_name"])),
            (json!("dict_type"), json!(["body", "definition"])),
        ]
    );
    let (status, reply) = resolve("flow_name=%20%20&app_id=shop");
    assert_eq!(status, 422, "{reply}");
    assert_eq!(
        named(&reply),
        [(json!("string_too_short"), json!(["query", "flow_name"]))]
    );
    let (status, reply) = resolve("app_id=shop");
    assert_eq!(status, 422, "{reply}");
    assert_eq!(
        named(&reply),
        [(json!("missing"), json!(["query", "flow_name"]))]
    );

    // The API key is required on both routes.
    let unauthorized = (401, json!({"detail": "Invalid API key."}));
    let url = |path: &str| format!("{}{path}", server.url());
    assert_eq!(
        answer(
            agent()
                .post(&url(REGISTER))
                .set("Content-Type", "application/json")
                .send_string(&app_level.to_string())
        ),
        unauthorized
    );
    assert_eq!(
        answer(
            agent()
                .get(&url(
                    "/observation/flows/resolve?flow_name=checkout&app_id=shop"
                ))
                .set("X-API-Key", "wrong")
                .call()
        ),
        unauthorized
    );
    assert_eq!(
        answer(
            agent()
                .get(&url(&format!(
                    "/observation/flows/resolve?flow_name=checkout&app_id=shop&api_key={KEY}"
                )))
                .call()
        )
        .1["data"],
        *payload
    );
}
