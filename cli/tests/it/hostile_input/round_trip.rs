//! `export`, then `import` into a fresh store, then `export` again gives
//! the same bytes, for edge events a server accepted: numbers beyond f64,
//! 30-digit integers, `1e2`, `seq` of `"abc"`, `-1` and `0`, keys out of
//! order, `source: ""`, unicode escapes, empty objects, unknown fields.

use crate::support;

/// Edge events as raw JSON text, posted as written.
const EDGES: [&str; 12] = [
    r#"{"event_id":"e01","event_type":"edge.deep","payload":{"d":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}"#,
    r#"{"event_id":"e02","event_type":"edge.huge","payload":{"n":1e99999,"m":-1E+99999}}"#,
    r#"{"event_id":"e03","event_type":"edge.seq","seq":"abc"}"#,
    r#"{"event_id":"e04","event_type":"edge.seq","seq":-1}"#,
    r#"{"event_id":"e05","event_type":"edge.seq","seq":0}"#,
    r#"{"event_id":"e06","event_type":"edge.int","payload":123456789012345678901234567890}"#,
    r#"{"timestamp":1700000000006,"payload":{"z":1,"a":2},"zeta":1,"event_type":"edge.order","alpha":2,"event_id":"e07"}"#,
    r#"{"event_id":"e08","event_type":"edge.numbers","payload":{"n":1e2,"f":1.50,"z":-0}}"#,
    r#"{"event_id":"e09","event_type":"edge.source","source":""}"#,
    r#"{"event_id":"e\u0031\u0030","event_type":"edge.\u0075nicode","message":"caf\u00e9 \ud83d\ude00","payload":{"s":"\u00e9\u2028\u0000"}}"#,
    r#"{"event_id":"e11","event_type":"edge.empty","payload":{},"meta":{},"o":{},"l":[]}"#,
    r#"{"event_id":"e12","event_type":"edge.extra","meta":{"app_id":"a","z":1e2},"trace":{"id":[1,{"k":null}]},"flag":true}"#,
];

#[test]
fn export_import_export_gives_the_same_bytes_for_edge_events() {
    let dir = tempfile::tempdir().unwrap();
    let (store, copy) = (dir.path().join("store"), dir.path().join("copy"));
    let (store, copy) = (store.to_str().unwrap(), copy.to_str().unwrap());
    let (mut serve, url) = support::serve(std::path::Path::new(store), &[]);
    let body = format!("{{\"events\":[{}]}}", EDGES.join(","));
    let answer = match ureq::post(&format!("{url}/observation/ingest"))
        .set("Content-Type", "application/json")
        .timeout(support::WAIT)
        .send_string(&body)
    {
        Ok(response) => response.into_string().unwrap(),
        Err(ureq::Error::Status(status, response)) => {
            panic!(
                "ingest answered {status}: {}",
                response.into_string().unwrap()
            )
        }
        Err(error) => panic!("ingest failed: {error}"),
    };
    assert!(answer.contains(r#""ingested":12"#), "{answer}");
    serve.terminate();
    assert!(serve.wait_exit().success(), "{}", serve.transcript());

    let (first, second) = (
        dir.path().join("first.jsonl"),
        dir.path().join("second.jsonl"),
    );
    let export = support::run(&["export", "--data-dir", store, "-o", first.to_str().unwrap()]);
    assert!(export.status.success(), "{:?}", export.err);
    let import = support::run(&["import", first.to_str().unwrap(), "--data-dir", copy]);
    assert!(
        import.status.success(),
        "import refused the export: {:?}",
        import.err
    );
    assert!(
        import.out[0].ends_with(": 12 events, 12 new, 0 already stored"),
        "{:?}",
        import.out
    );
    let export = support::run(&["export", "--data-dir", copy, "-o", second.to_str().unwrap()]);
    assert!(export.status.success(), "{:?}", export.err);

    let (first, second) = (
        std::fs::read(first).unwrap(),
        std::fs::read(second).unwrap(),
    );
    assert_eq!(
        String::from_utf8_lossy(&second),
        String::from_utf8_lossy(&first),
        "export -> import -> export changed the text"
    );
    assert_eq!(second, first);
    let text = String::from_utf8(first).unwrap();
    for kept in [
        r#""payload":{"n":1e99999,"m":-1E+99999}"#,
        r#""payload":123456789012345678901234567890"#,
        r#""seq":"abc""#,
        r#""seq":-1"#,
        r#""seq":0"#,
        r#""source":"""#,
        r#""payload":{"n":1e2,"f":1.50,"z":-0}"#,
        r#""zeta":1,"alpha":2"#,
        r#""payload":{"z":1,"a":2}"#,
    ] {
        assert!(text.contains(kept), "{kept} not as posted in:\n{text}");
    }
}
