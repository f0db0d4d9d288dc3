//! Run lineage: `RunContext`, the current run of a task or closure, and the
//! spawn helpers that carry it (and the current capture) into new tasks.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::capture::{CaptureBuffer, Polling};
use crate::event::{
    into_object, now_millis, take_object, take_string, EventError, EventId, JsonMap,
};

/// Where an event sits in the tree of runs: an agent execution, the model
/// requests and tool calls inside it, the workflows they start.
///
/// A root run's `root_run_id` is its own `run_id`; a [`child`](RunContext::child)
/// points at its parent and inherits the root, the agent, session, response
/// and execution ids and the meta. Serialized as Agently's RunContext.
///
/// ```
/// use event_center::RunContext;
///
/// let root = RunContext::new("agent_execution").with_session_id("s-1").with_meta("a", 1);
/// let child = root.child("model_request").with_meta("b", 2);
/// assert_eq!(root.root_run_id.as_deref(), Some(root.run_id.as_str()));
/// assert_eq!(child.parent_run_id.as_deref(), Some(root.run_id.as_str()));
/// assert_eq!(child.root_run_id, root.root_run_id);
/// assert_eq!(child.session_id.as_deref(), Some("s-1"));
/// assert_eq!(child.meta["a"], 1);
/// assert_eq!(child.meta["b"], 2);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunContext {
    /// This run's id (32 hex characters when generated).
    pub run_id: String,
    /// What kind of run: `agent_execution`, `model_request`, `action`, ...
    pub run_kind: String,
    /// The id of the run at the top of the tree; this run's own id for a root.
    pub root_run_id: Option<String>,
    /// The id of the run that started this one.
    pub parent_run_id: Option<String>,
    /// The agent's id.
    pub agent_id: Option<String>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// The conversation or session.
    pub session_id: Option<String>,
    /// The model response this run produced or belongs to.
    pub response_id: Option<String>,
    /// The framework's own execution id.
    pub execution_id: Option<String>,
    /// Free-form metadata, inherited by children (a child's own keys win).
    pub meta: JsonMap,
}

impl RunContext {
    /// A new root run of the given kind with a generated, time-ordered id.
    ///
    /// ```
    /// let run = event_center::RunContext::new("agent_execution");
    /// assert_eq!(run.run_id.len(), 32);
    /// assert_eq!(run.parent_run_id, None);
    /// ```
    pub fn new(run_kind: impl Into<String>) -> Self {
        let run_id = EventId::at_millis(now_millis()).to_string();
        RunContext {
            root_run_id: Some(run_id.clone()),
            run_id,
            run_kind: run_kind.into(),
            parent_run_id: None,
            agent_id: None,
            agent_name: None,
            session_id: None,
            response_id: None,
            execution_id: None,
            meta: JsonMap::new(),
        }
    }

    /// A child run: a new id, this run as parent, the same root, and this
    /// run's agent, session, response and execution ids and meta.
    ///
    /// ```
    /// use event_center::RunContext;
    /// let root = RunContext::new("agent_execution").with_agent_name("helper");
    /// let grandchild = root.child("model_request").child("action");
    /// assert_eq!(grandchild.root_run_id.as_deref(), Some(root.run_id.as_str()));
    /// assert_eq!(grandchild.agent_name.as_deref(), Some("helper"));
    /// ```
    pub fn child(&self, run_kind: impl Into<String>) -> Self {
        let mut child = RunContext::new(run_kind);
        child.root_run_id = Some(self.root_id().to_owned());
        child.parent_run_id = Some(self.run_id.clone());
        child.agent_id.clone_from(&self.agent_id);
        child.agent_name.clone_from(&self.agent_name);
        child.session_id.clone_from(&self.session_id);
        child.response_id.clone_from(&self.response_id);
        child.execution_id.clone_from(&self.execution_id);
        child.meta.clone_from(&self.meta);
        child
    }

    /// The root run's id (`root_run_id`, or this run's id when unset).
    ///
    /// ```
    /// let run = event_center::RunContext::new("agent_execution");
    /// assert_eq!(run.root_id(), run.run_id);
    /// ```
    pub fn root_id(&self) -> &str {
        self.root_run_id.as_deref().unwrap_or(&self.run_id)
    }

    /// Sets the run id (a root run's `root_run_id` follows it).
    ///
    /// ```
    /// let run = event_center::RunContext::new("agent_execution").with_run_id("run-1");
    /// assert_eq!(run.root_run_id.as_deref(), Some("run-1"));
    /// ```
    pub fn with_run_id(mut self, run_id: impl Into<String>) -> Self {
        let run_id = run_id.into();
        if self.root_run_id.as_deref() == Some(self.run_id.as_str()) {
            self.root_run_id = Some(run_id.clone());
        }
        self.run_id = run_id;
        self
    }

    /// Sets `agent_id`.
    pub fn with_agent_id(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    /// Sets `agent_name`.
    pub fn with_agent_name(mut self, agent_name: impl Into<String>) -> Self {
        self.agent_name = Some(agent_name.into());
        self
    }

    /// Sets `session_id`.
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Sets `response_id`.
    pub fn with_response_id(mut self, response_id: impl Into<String>) -> Self {
        self.response_id = Some(response_id.into());
        self
    }

    /// Sets `execution_id`.
    pub fn with_execution_id(mut self, execution_id: impl Into<String>) -> Self {
        self.execution_id = Some(execution_id.into());
        self
    }

    /// Adds one meta entry (overriding an inherited one).
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.meta.insert(key.into(), value.into());
        self
    }

    /// The run made current for this task or closure, if any.
    ///
    /// ```
    /// use event_center::RunContext;
    /// assert!(RunContext::current().is_none());
    /// let run = RunContext::new("agent_execution");
    /// let id = run.run_id.clone();
    /// run.in_scope(|| assert_eq!(RunContext::current().unwrap().run_id, id));
    /// ```
    pub fn current() -> Option<Arc<RunContext>> {
        TaskScope::current().run
    }

    /// Runs a future with this run as the current one. Emitters with no run of
    /// their own stamp it on their events. Tasks spawned inside through
    /// [`spawn`](crate::spawn) carry it; unrelated tasks never see it.
    ///
    /// ```
    /// use event_center::RunContext;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let run = RunContext::new("agent_execution");
    /// let id = run.run_id.clone();
    /// let seen = run.scope(async { RunContext::current().map(|r| r.run_id.clone()) }).await;
    /// assert_eq!(seen, Some(id));
    /// assert!(RunContext::current().is_none());
    /// # });
    /// ```
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        let scope = TaskScope::current().with_run(Arc::new(self));
        enter(scope, future)
    }

    /// Runs a closure with this run as the current one (the synchronous form
    /// of [`scope`](RunContext::scope)).
    ///
    /// ```
    /// use event_center::RunContext;
    /// let run = RunContext::new("agent_execution");
    /// let kind = run.in_scope(|| RunContext::current().unwrap().run_kind.clone());
    /// assert_eq!(kind, "agent_execution");
    /// ```
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        let scope = TaskScope::current().with_run(Arc::new(self));
        enter_sync(scope, f)
    }

    pub(crate) fn from_json(value: Value, path: &str) -> Result<Self, EventError> {
        let mut obj = into_object(value, path)?;
        let p = |key: &str| format!("{path}.{key}");
        let required = |obj: &mut JsonMap, key: &str| -> Result<String, EventError> {
            take_string(obj, key, &p(key))?.ok_or_else(|| EventError::missing_field(p(key)))
        };
        let run_id = required(&mut obj, "run_id")?;
        let run_kind = required(&mut obj, "run_kind")?;
        let mut optional = |key: &str| take_string(&mut obj, key, &p(key));
        Ok(RunContext {
            root_run_id: Some(optional("root_run_id")?.unwrap_or_else(|| run_id.clone())),
            parent_run_id: optional("parent_run_id")?,
            agent_id: optional("agent_id")?,
            agent_name: optional("agent_name")?,
            session_id: optional("session_id")?,
            response_id: optional("response_id")?,
            execution_id: optional("execution_id")?,
            meta: take_object(&mut obj, "meta", &p("meta"))?.unwrap_or_default(),
            run_id,
            run_kind,
        })
    }
}

impl<'de> Deserialize<'de> for RunContext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RunContext::from_json(Value::deserialize(deserializer)?, "run")
            .map_err(serde::de::Error::custom)
    }
}

/// What follows a task: the current run and the capture collecting its
/// events (see [`EventCenter::capture`](crate::EventCenter::capture)).
/// Cloned into tasks spawned through [`spawn`].
#[derive(Clone, Default)]
pub(crate) struct TaskScope {
    pub(crate) run: Option<Arc<RunContext>>,
    pub(crate) capture: Option<Arc<CaptureBuffer>>,
}

tokio::task_local! {
    static CURRENT: TaskScope;
}

impl TaskScope {
    pub(crate) fn current() -> TaskScope {
        CURRENT.try_with(TaskScope::clone).unwrap_or_default()
    }

    /// The current run without cloning the whole scope (the emit path).
    pub(crate) fn current_run() -> Option<Arc<RunContext>> {
        CURRENT.try_with(|scope| scope.run.clone()).ok().flatten()
    }

    /// The current capture without cloning the whole scope (the emit path).
    pub(crate) fn current_capture() -> Option<Arc<CaptureBuffer>> {
        CURRENT
            .try_with(|scope| scope.capture.clone())
            .ok()
            .flatten()
    }

    /// Whether there is a current capture and `f` holds for it (no
    /// reference count taken).
    pub(crate) fn current_capture_is(f: impl FnOnce(&CaptureBuffer) -> bool) -> bool {
        CURRENT
            .try_with(|scope| scope.capture.as_deref().is_some_and(f))
            .unwrap_or(false)
    }

    fn with_run(mut self, run: Arc<RunContext>) -> TaskScope {
        self.run = Some(run);
        self
    }
}

/// Runs `future` with `scope` as its task scope. Every task scope is set
/// through here or [`enter_sync`], so that a scope holding a capture is
/// counted as polled on its thread (which the emit path checks first).
pub(crate) fn enter<F: Future>(scope: TaskScope, future: F) -> impl Future<Output = F::Output> {
    let capturing = scope.capture.is_some();
    let future = CURRENT.scope(scope, future);
    async move {
        let mut future = pin!(future);
        poll_fn(|cx| {
            let _polling = capturing.then(Polling::enter);
            future.as_mut().poll(cx)
        })
        .await
    }
}

/// Runs `f` with `scope` as its task scope; see [`enter`].
pub(crate) fn enter_sync<R>(scope: TaskScope, f: impl FnOnce() -> R) -> R {
    let _polling = scope.capture.is_some().then(Polling::enter);
    CURRENT.sync_scope(scope, f)
}

/// Spawns a task on the current tokio runtime that carries the caller's
/// current run and capture, so events it emits belong to the same run and
/// are collected by the caller's [capture](crate::EventCenter::capture). A
/// plain `tokio::spawn` starts with neither.
///
/// Panics, like `tokio::spawn`, when called outside a tokio runtime.
///
/// ```
/// use event_center::RunContext;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let run = RunContext::new("agent_execution");
/// let id = run.run_id.clone();
/// let (inside, outside) = run
///     .scope(async {
///         let inside = event_center::spawn(async { RunContext::current().map(|r| r.run_id.clone()) });
///         let outside = tokio::spawn(async { RunContext::current().is_some() });
///         (inside.await.unwrap(), outside.await.unwrap())
///     })
///     .await;
/// assert_eq!(inside, Some(id));
/// assert!(!outside);
/// # });
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(enter(TaskScope::current(), future))
}

/// Runs a blocking closure on tokio's blocking pool, carrying the caller's
/// current run and capture like [`spawn`].
///
/// ```
/// use event_center::RunContext;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let run = RunContext::new("agent_execution");
/// let seen = run
///     .scope(async { event_center::spawn_blocking(|| RunContext::current().is_some()).await.unwrap() })
///     .await;
/// assert!(seen);
/// # });
/// ```
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let scope = TaskScope::current();
    tokio::task::spawn_blocking(move || enter_sync(scope, f))
}
