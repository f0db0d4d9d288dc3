//! The request bodies of Wayfound's sessions API.
//!
//! As Wayfound documents it (API v2): `POST /api/v2/sessions` creates a
//! session from `agentId` and `messages` (optional `applicationId`,
//! `visitorId`, `visitorDisplayName`, `accountId`, `accountDisplayName`,
//! `metadata`, and `async`, true by default) and answers with the session's
//! `id`; `PUT /api/v2/sessions/{id}` appends `messages` (and `async`) to it
//! (the method Wayfound's current SDKs use; early SDKs POSTed to the same
//! path). Each request carries at most 750 KB of messages. Both take
//! `Authorization: Bearer <API key>` and JSON.

use serde::Serialize;
use serde_json::Value;

use super::budget::SizeBudget;
use super::transcript::{Transcript, TranscriptEntry};
use crate::event::JsonMap;

/// The body of Wayfound's create-session request
/// (`POST /api/v2/sessions`). Optional fields are omitted when unset.
///
/// ```
/// use event_center::{Transcript, WayfoundSession};
/// use serde_json::json;
///
/// let body = WayfoundSession::new("agent-uuid").create_body(Vec::new());
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     json!({"agentId": "agent-uuid", "messages": [], "async": true})
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateSessionBody {
    /// The Wayfound agent the session belongs to.
    #[serde(rename = "agentId")]
    pub agent_id: String,
    /// The transcript entries.
    pub messages: Vec<TranscriptEntry>,
    /// Whether Wayfound answers at once (true) or after its analysis.
    #[serde(rename = "async")]
    pub is_async: bool,
    /// The application the agent takes part in.
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// The visitor's id (an email, a uuid).
    #[serde(rename = "visitorId", skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    /// The visitor's display name.
    #[serde(rename = "visitorDisplayName", skip_serializing_if = "Option::is_none")]
    pub visitor_display_name: Option<String>,
    /// The visitor's account id.
    #[serde(rename = "accountId", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The account's display name.
    #[serde(rename = "accountDisplayName", skip_serializing_if = "Option::is_none")]
    pub account_display_name: Option<String>,
    /// Free-form metadata for the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonMap>,
}

/// The body of Wayfound's append request (`PUT /api/v2/sessions/{id}`).
///
/// ```
/// use event_center::WayfoundSession;
/// use serde_json::json;
///
/// let body = WayfoundSession::new("agent-uuid").append_body(Vec::new());
/// assert_eq!(serde_json::to_value(&body).unwrap(), json!({"messages": [], "async": true}));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AppendSessionBody {
    /// The transcript entries to add at the end of the session.
    pub messages: Vec<TranscriptEntry>,
    /// Whether Wayfound answers at once (true) or after its analysis.
    #[serde(rename = "async")]
    pub is_async: bool,
}

/// One request to Wayfound's sessions API: the create, or an append to the
/// session it created.
///
/// ```
/// use event_center::{SizeBudget, Transcript, WayfoundRequest, WayfoundSession};
///
/// let requests = WayfoundSession::new("agent-uuid").requests(&Transcript::default(), &SizeBudget::default());
/// assert_eq!(requests.len(), 1);
/// assert_eq!(requests[0].method(), "POST");
/// assert_eq!(requests[0].path(None), "/api/v2/sessions");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WayfoundRequest {
    /// `POST /api/v2/sessions`.
    Create(CreateSessionBody),
    /// `PUT /api/v2/sessions/{id}`.
    Append(AppendSessionBody),
}

/// Serializes as its body, fields in the documented order.
impl Serialize for WayfoundRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            WayfoundRequest::Create(body) => body.serialize(serializer),
            WayfoundRequest::Append(body) => body.serialize(serializer),
        }
    }
}

impl WayfoundRequest {
    /// The HTTP method: `POST` to create, `PUT` to append.
    ///
    /// ```
    /// use event_center::{WayfoundRequest, WayfoundSession};
    /// let append = WayfoundRequest::Append(WayfoundSession::new("a").append_body(vec![]));
    /// assert_eq!(append.method(), "PUT");
    /// ```
    pub fn method(&self) -> &'static str {
        match self {
            WayfoundRequest::Create(_) => "POST",
            WayfoundRequest::Append(_) => "PUT",
        }
    }

    /// The path under the API's base URL; an append needs the session id
    /// the create answered with (without one, the path ends in `{id}`).
    ///
    /// ```
    /// use event_center::{WayfoundRequest, WayfoundSession};
    /// let append = WayfoundRequest::Append(WayfoundSession::new("a").append_body(vec![]));
    /// assert_eq!(append.path(Some("s-42")), "/api/v2/sessions/s-42");
    /// ```
    pub fn path(&self, session_id: Option<&str>) -> String {
        match self {
            WayfoundRequest::Create(_) => "/api/v2/sessions".to_owned(),
            WayfoundRequest::Append(_) => {
                format!("/api/v2/sessions/{}", session_id.unwrap_or("{id}"))
            }
        }
    }

    /// The JSON body (the request also serializes as its body, keeping
    /// the documented field order).
    ///
    /// ```
    /// use event_center::{WayfoundRequest, WayfoundSession};
    /// let create = WayfoundRequest::Create(WayfoundSession::new("a").create_body(vec![]));
    /// assert_eq!(create.body()["agentId"], "a");
    /// ```
    pub fn body(&self) -> Value {
        let body = match self {
            WayfoundRequest::Create(body) => serde_json::to_value(body),
            WayfoundRequest::Append(body) => serde_json::to_value(body),
        };
        body.unwrap_or(Value::Null)
    }

    /// The transcript entries it carries.
    ///
    /// ```
    /// use event_center::{WayfoundRequest, WayfoundSession};
    /// let create = WayfoundRequest::Create(WayfoundSession::new("a").create_body(vec![]));
    /// assert!(create.messages().is_empty());
    /// ```
    pub fn messages(&self) -> &[TranscriptEntry] {
        match self {
            WayfoundRequest::Create(body) => &body.messages,
            WayfoundRequest::Append(body) => &body.messages,
        }
    }
}

/// Who and what a Wayfound session is about: the agent id, and optionally
/// the application, visitor, account and metadata. It builds the request
/// bodies for a transcript.
///
/// ```
/// use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind, WayfoundRequest, WayfoundSession};
///
/// let session = WayfoundSession::new("agent-uuid")
///     .with_visitor("visitor@example.com", "Visitor")
///     .with_async(false);
/// let transcript = Transcript::from(vec![
///     TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::UserMessage).with_attribute("content", "Hi"),
/// ]);
/// let requests = session.requests(&transcript, &SizeBudget::default());
/// let WayfoundRequest::Create(create) = &requests[0] else { panic!("create comes first") };
/// assert_eq!(create.visitor_id.as_deref(), Some("visitor@example.com"));
/// assert!(!create.is_async);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct WayfoundSession {
    agent_id: String,
    application_id: Option<String>,
    visitor_id: Option<String>,
    visitor_display_name: Option<String>,
    account_id: Option<String>,
    account_display_name: Option<String>,
    metadata: Option<JsonMap>,
    is_async: bool,
}

impl WayfoundSession {
    /// A session of this Wayfound agent (its id is on the agent's
    /// Connection page), analysed asynchronously.
    pub fn new(agent_id: impl Into<String>) -> Self {
        WayfoundSession {
            agent_id: agent_id.into(),
            application_id: None,
            visitor_id: None,
            visitor_display_name: None,
            account_id: None,
            account_display_name: None,
            metadata: None,
            is_async: true,
        }
    }

    /// The agent id.
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The application the agent takes part in.
    pub fn with_application_id(mut self, application_id: impl Into<String>) -> Self {
        self.application_id = Some(application_id.into());
        self
    }

    /// The visitor's id and display name.
    pub fn with_visitor(mut self, id: impl Into<String>, display_name: impl Into<String>) -> Self {
        self.visitor_id = Some(id.into());
        self.visitor_display_name = Some(display_name.into());
        self
    }

    /// The visitor's account id and display name.
    pub fn with_account(mut self, id: impl Into<String>, display_name: impl Into<String>) -> Self {
        self.account_id = Some(id.into());
        self.account_display_name = Some(display_name.into());
        self
    }

    /// One metadata field of the session.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata
            .get_or_insert_with(JsonMap::new)
            .insert(key.into(), value.into());
        self
    }

    /// `false` asks Wayfound to answer only after its analysis (inline
    /// supervision: the answer carries the grade). Only the last request of
    /// a transcript is sent with `async: false`, so the analysis covers the
    /// whole transcript and earlier batches do not wait.
    pub fn with_async(mut self, is_async: bool) -> Self {
        self.is_async = is_async;
        self
    }

    /// The create body for these entries.
    pub fn create_body(&self, messages: Vec<TranscriptEntry>) -> CreateSessionBody {
        CreateSessionBody {
            agent_id: self.agent_id.clone(),
            messages,
            is_async: self.is_async,
            application_id: self.application_id.clone(),
            visitor_id: self.visitor_id.clone(),
            visitor_display_name: self.visitor_display_name.clone(),
            account_id: self.account_id.clone(),
            account_display_name: self.account_display_name.clone(),
            metadata: self.metadata.clone(),
        }
    }

    /// The append body for these entries.
    ///
    /// ```
    /// let body = event_center::WayfoundSession::new("a").append_body(vec![]);
    /// assert!(body.is_async);
    /// ```
    pub fn append_body(&self, messages: Vec<TranscriptEntry>) -> AppendSessionBody {
        AppendSessionBody {
            messages,
            is_async: self.is_async,
        }
    }

    /// The requests that send a transcript: the create with the first
    /// batch of the [`SizeBudget`], then one append per further batch. An
    /// empty transcript still gives the create (with no messages).
    ///
    /// ```
    /// use event_center::{SizeBudget, Transcript, TranscriptEntry, TranscriptKind, WayfoundRequest, WayfoundSession};
    ///
    /// let entries: Vec<_> = (0..3)
    ///     .map(|i| TranscriptEntry::new("2025-05-07T10:00:00Z", TranscriptKind::UserMessage)
    ///         .with_attribute("content", format!("{i}{}", "z".repeat(600))))
    ///     .collect();
    /// let budget = SizeBudget::default().with_batch_bytes(1_024);
    /// let requests = WayfoundSession::new("a").with_async(false).requests(&Transcript::from(entries), &budget);
    /// assert_eq!(requests.len(), 3);
    /// assert!(matches!(requests[0], WayfoundRequest::Create(_)));
    /// assert!(matches!(requests[2], WayfoundRequest::Append(_)));
    /// assert_eq!(requests[1].body()["async"], true);
    /// assert_eq!(requests[2].body()["async"], false);
    /// ```
    pub fn requests(&self, transcript: &Transcript, budget: &SizeBudget) -> Vec<WayfoundRequest> {
        let mut batches = budget.split(transcript).into_iter();
        let first = batches.next().unwrap_or_default();
        let mut requests = vec![WayfoundRequest::Create(self.create_body(first))];
        requests.extend(batches.map(|batch| WayfoundRequest::Append(self.append_body(batch))));
        let last = requests.len() - 1;
        for (index, request) in requests.iter_mut().enumerate() {
            let is_async = self.is_async || index != last;
            match request {
                WayfoundRequest::Create(body) => body.is_async = is_async,
                WayfoundRequest::Append(body) => body.is_async = is_async,
            }
        }
        requests
    }
}
