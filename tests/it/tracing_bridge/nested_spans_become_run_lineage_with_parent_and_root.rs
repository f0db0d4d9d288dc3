use event_center::{EventCenter, EventCenterLayer};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn nested_spans_become_run_lineage_with_parent_and_root() {
    let center = EventCenter::new();
    let seen = crate::support::record(&center, "steps", "step.*");

    let layer = EventCenterLayer::new(&center);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let root = tracing::info_span!(
            "agent_execution",
            agent_name = "planner",
            session_id = "s-1",
            tenant = "demo"
        );
        root.in_scope(|| {
            tracing::info!(event_type = "step.root");
            tracing::info_span!("model_request", attempt = 2).in_scope(|| {
                tracing::info_span!("tool_call").in_scope(|| {
                    tracing::info!(event_type = "step.tool");
                });
                tracing::info!(event_type = "step.model");
            });
            // A new span after the first closed: the registry may reuse its
            // id, the run must be a new one.
            tracing::info_span!("model_request").in_scope(|| {
                tracing::info!(event_type = "step.second_model");
            });
            tracing::info!(event_type = "step.root_again");
        });
        let explicit = tracing::info_span!("job", run_id = "job-7");
        tracing::info!(parent: &explicit, event_type = "step.explicit_parent");
    });

    let seen = seen.lock().unwrap();
    let run = |t: &str| {
        seen.iter()
            .find(|e| e.event_type == t)
            .unwrap_or_else(|| panic!("no {t}"))
            .run
            .clone()
            .unwrap_or_else(|| panic!("{t} has no run"))
    };
    let root = run("step.root");
    let model = run("step.model");
    let tool = run("step.tool");
    let second = run("step.second_model");

    assert_eq!(root.run_kind, "agent_execution");
    assert_eq!(root.run_id.len(), 32);
    assert_eq!(root.root_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(root.parent_run_id, None);
    assert_eq!(root.agent_name.as_deref(), Some("planner"));
    assert_eq!(root.session_id.as_deref(), Some("s-1"));
    assert_eq!(root.meta["tenant"], "demo");
    assert!(root.meta["tracing_span_id"].is_u64());

    assert_eq!(model.run_kind, "model_request");
    assert_eq!(model.parent_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(model.root_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(model.agent_name.as_deref(), Some("planner"), "inherited");
    assert_eq!(model.meta["tenant"], "demo", "inherited");
    assert_eq!(model.meta["attempt"], 2);

    assert_eq!(tool.run_kind, "tool_call");
    assert_eq!(tool.parent_run_id.as_deref(), Some(model.run_id.as_str()));
    assert_eq!(tool.root_run_id.as_deref(), Some(root.run_id.as_str()));

    assert_ne!(second.run_id, model.run_id, "a new span is a new run");
    assert_eq!(second.parent_run_id.as_deref(), Some(root.run_id.as_str()));
    assert_eq!(
        run("step.root_again").run_id,
        root.run_id,
        "stable for the span's life"
    );

    let job = run("step.explicit_parent");
    assert_eq!(job.run_id, "job-7");
    assert_eq!(job.root_run_id.as_deref(), Some("job-7"));
}
