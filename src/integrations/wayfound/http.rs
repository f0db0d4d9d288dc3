//! A small blocking client for Wayfound's sessions API (feature
//! `wayfound-http`).

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::budget::SizeBudget;
use super::session::{AppendSessionBody, CreateSessionBody, WayfoundRequest, WayfoundSession};
use super::transcript::Transcript;

/// Wayfound's API host.
const DEFAULT_BASE_URL: &str = "https://app.wayfound.ai";

/// Wayfound's analysis grade of a session.
///
/// ```
/// let grade: event_center::WayfoundGrade =
///     serde_json::from_value(serde_json::json!({"grade": "B", "explanation": "Mostly fine."})).unwrap();
/// assert_eq!(grade.grade, "B");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct WayfoundGrade {
    /// The grade, such as `"A"` or `"B"`.
    pub grade: String,
    /// Why.
    #[serde(default)]
    pub explanation: Option<String>,
}

/// What Wayfound answered to a create or append request.
///
/// ```
/// use event_center::WayfoundResponse;
/// use serde_json::json;
///
/// let pending = WayfoundResponse::Pending { id: "s-1".into(), body: json!({"id": "s-1", "status": "processing"}) };
/// assert_eq!(pending.id(), "s-1");
/// assert!(pending.is_pending() && pending.grade().is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WayfoundResponse {
    /// `200` with the analysis (an `async: false` request that finished):
    /// the grade, and the whole body for `compliance`, `sentiment`, ...
    Analyzed {
        /// The session's id.
        id: String,
        /// The session's grade.
        grade: WayfoundGrade,
        /// The whole answer.
        body: Value,
    },
    /// `200` without analysis: recorded, analysed later (`async: true`).
    Recorded {
        /// The session's id.
        id: String,
        /// The whole answer.
        body: Value,
    },
    /// `202`: the analysis did not finish within Wayfound's synchronous
    /// window (`{"id": ..., "status": "processing"}`). Poll
    /// `GET /api/v2/sessions/{id}` until `lastProcessedAt` is set, or apply
    /// your fallback policy.
    Pending {
        /// The session's id.
        id: String,
        /// The whole answer.
        body: Value,
    },
}

impl WayfoundResponse {
    /// The session's id.
    pub fn id(&self) -> &str {
        match self {
            WayfoundResponse::Analyzed { id, .. }
            | WayfoundResponse::Recorded { id, .. }
            | WayfoundResponse::Pending { id, .. } => id,
        }
    }

    /// The grade, when the analysis came with the answer.
    pub fn grade(&self) -> Option<&WayfoundGrade> {
        match self {
            WayfoundResponse::Analyzed { grade, .. } => Some(grade),
            _ => None,
        }
    }

    /// Whether the analysis is still running (`202`).
    pub fn is_pending(&self) -> bool {
        matches!(self, WayfoundResponse::Pending { .. })
    }

    /// The whole JSON answer.
    pub fn body(&self) -> &Value {
        match self {
            WayfoundResponse::Analyzed { body, .. }
            | WayfoundResponse::Recorded { body, .. }
            | WayfoundResponse::Pending { body, .. } => body,
        }
    }
}

/// What went wrong talking to Wayfound.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WayfoundErrorKind {
    /// `400`: Wayfound refused the body (see the error's body for why).
    BadRequest,
    /// `401` or `403`: the API key is missing, wrong, or of the MCP type.
    Unauthorized,
    /// `404`: no such session or agent in the key's organization.
    NotFound,
    /// `413`: the request is too large for Wayfound.
    PayloadTooLarge,
    /// `429`: too many requests.
    RateLimited,
    /// `5xx`: Wayfound failed.
    Server,
    /// Any other status.
    UnexpectedStatus,
    /// No answer: the connection failed or timed out.
    Transport,
    /// An answer that is not what Wayfound documents (not JSON, no id).
    InvalidResponse,
    /// An append was sent without the id of the session to append to.
    MissingSessionId,
}

/// An error from [`WayfoundClient`]: which request, the HTTP status and the
/// answer's body (when there was an answer), and what to do.
///
/// ```
/// use event_center::{WayfoundClient, WayfoundErrorKind, WayfoundSession};
///
/// // Nothing listens on port 9 of the loopback address: a transport error.
/// let client = WayfoundClient::new("key").with_base_url("http://127.0.0.1:9");
/// let err = client.create(&WayfoundSession::new("agent").create_body(vec![])).unwrap_err();
/// assert_eq!(err.kind(), &WayfoundErrorKind::Transport);
/// assert_eq!(err.status(), None);
/// assert!(err.to_string().contains("POST /api/v2/sessions"));
/// ```
#[derive(Clone, Debug)]
pub struct WayfoundError {
    kind: WayfoundErrorKind,
    request: String,
    status: Option<u16>,
    body: String,
    session_id: Option<String>,
}

impl WayfoundError {
    /// What went wrong.
    ///
    /// ```
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// # let client = WayfoundClient::new("key").with_base_url("http://127.0.0.1:9");
    /// let err = client.append("s-1", &WayfoundSession::new("a").append_body(vec![])).unwrap_err();
    /// assert_eq!(err.kind(), &event_center::WayfoundErrorKind::Transport);
    /// ```
    pub fn kind(&self) -> &WayfoundErrorKind {
        &self.kind
    }

    /// The HTTP status, when Wayfound answered.
    ///
    /// ```
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// # let client = WayfoundClient::new("key").with_base_url("http://127.0.0.1:9");
    /// let err = client.append("s-1", &WayfoundSession::new("a").append_body(vec![])).unwrap_err();
    /// assert!(err.status().is_none());
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The answer's body (Wayfound's `{"error": ...}` or `{"message": ...}`),
    /// or the transport error's text.
    ///
    /// ```
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// # let client = WayfoundClient::new("key").with_base_url("http://127.0.0.1:9");
    /// let err = client.append("s-1", &WayfoundSession::new("a").append_body(vec![])).unwrap_err();
    /// assert!(!err.body().is_empty());
    /// ```
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The session already created when a later append failed
    /// ([`WayfoundClient::send_transcript`]): append the remaining batches
    /// to it rather than creating another.
    ///
    /// ```
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// # let client = WayfoundClient::new("key").with_base_url("http://127.0.0.1:9");
    /// let err = client.append("s-1", &WayfoundSession::new("a").append_body(vec![])).unwrap_err();
    /// assert!(err.session_id().is_none());
    /// ```
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    fn advice(&self) -> &'static str {
        match self.kind {
            WayfoundErrorKind::BadRequest => "check the body against Wayfound's sessions API (agentId, messages)",
            WayfoundErrorKind::Unauthorized => "use a standard Wayfound API key (a UUID from Settings > Connections), not an MCP key",
            WayfoundErrorKind::NotFound => "check the agent or session id belongs to the API key's organization",
            WayfoundErrorKind::PayloadTooLarge => "send smaller batches (a lower SizeBudget batch_bytes)",
            WayfoundErrorKind::RateLimited => "wait and retry later",
            WayfoundErrorKind::Server => "retry later; Wayfound failed on its side",
            WayfoundErrorKind::UnexpectedStatus => "check the base URL points at Wayfound's API",
            WayfoundErrorKind::Transport => "check the network and the base URL, or raise the timeout",
            WayfoundErrorKind::InvalidResponse => "check the base URL points at Wayfound's API",
            WayfoundErrorKind::MissingSessionId => "create the session first and pass the id it answered with",
        }
    }
}

impl fmt::Display for WayfoundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            WayfoundErrorKind::BadRequest => "bad request",
            WayfoundErrorKind::Unauthorized => "not authorized",
            WayfoundErrorKind::NotFound => "not found",
            WayfoundErrorKind::PayloadTooLarge => "request too large",
            WayfoundErrorKind::RateLimited => "rate limited",
            WayfoundErrorKind::Server => "server error",
            WayfoundErrorKind::UnexpectedStatus => "unexpected status",
            WayfoundErrorKind::Transport => "no answer",
            WayfoundErrorKind::InvalidResponse => "invalid answer",
            WayfoundErrorKind::MissingSessionId => "no session id",
        };
        write!(f, "Wayfound {}: {what}", self.request)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        let body: String = self.body.chars().take(500).collect();
        if !body.is_empty() {
            write!(f, ": {body}")?;
        }
        if let Some(id) = &self.session_id {
            write!(f, " (session {id} was created)")?;
        }
        write!(f, "; {}", self.advice())
    }
}

impl StdError for WayfoundError {}

/// A small blocking client for Wayfound's sessions API (HTTPS through
/// rustls). It posts the bodies [`WayfoundSession`] builds and reads the
/// documented answers: `200` with the session (and its grade when the
/// request was `async: false`), `202` while the analysis runs, errors with
/// Wayfound's message.
///
/// ```no_run
/// use event_center::{Event, SizeBudget, Transcript, TranscriptMapping, WayfoundClient, WayfoundSession};
///
/// # fn run(events: Vec<Event>) -> Result<(), event_center::WayfoundError> {
/// let transcript = Transcript::from_events(&events, &TranscriptMapping::agently());
/// let client = WayfoundClient::new(std::env::var("WAYFOUND_API_KEY").unwrap_or_default());
/// let session = WayfoundSession::new("agent-uuid").with_async(false);
/// let answer = client.send_transcript(&session, &transcript, &SizeBudget::default())?;
/// if let Some(grade) = answer.grade() {
///     println!("session {} graded {}", answer.id(), grade.grade);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WayfoundClient {
    base_url: String,
    api_key: String,
    agent: ureq::Agent,
}

impl fmt::Debug for WayfoundClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WayfoundClient")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .user_agent(concat!("event-center/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl WayfoundClient {
    /// A client for Wayfound's API with this API key and a 90-second
    /// timeout (an `async: false` request waits for the analysis).
    ///
    /// ```
    /// let client = event_center::WayfoundClient::new("api-key");
    /// assert!(!format!("{client:?}").contains("api-key"));
    /// ```
    pub fn new(api_key: impl Into<String>) -> Self {
        WayfoundClient {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: api_key.into(),
            agent: agent(Duration::from_secs(90)),
        }
    }

    /// Another base URL (a proxy, a test server); a trailing `/` is dropped.
    ///
    /// ```
    /// let client = event_center::WayfoundClient::new("k").with_base_url("http://127.0.0.1:8080/");
    /// assert!(format!("{client:?}").contains("http://127.0.0.1:8080\""));
    /// ```
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The timeout of each whole request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = agent(timeout);
        self
    }

    /// Creates a session (`POST /api/v2/sessions`).
    ///
    /// ```no_run
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// let client = WayfoundClient::new("api-key");
    /// let answer = client.create(&WayfoundSession::new("agent-uuid").create_body(vec![])).unwrap();
    /// println!("{}", answer.id());
    /// ```
    pub fn create(&self, body: &CreateSessionBody) -> Result<WayfoundResponse, WayfoundError> {
        let request = WayfoundRequest::Create(body.clone());
        self.send(&request, None)
    }

    /// Appends to a session (`PUT /api/v2/sessions/{id}`).
    ///
    /// ```no_run
    /// # use event_center::{WayfoundClient, WayfoundSession};
    /// let client = WayfoundClient::new("api-key");
    /// client.append("session-id", &WayfoundSession::new("agent-uuid").append_body(vec![])).unwrap();
    /// ```
    pub fn append(
        &self,
        session_id: &str,
        body: &AppendSessionBody,
    ) -> Result<WayfoundResponse, WayfoundError> {
        let request = WayfoundRequest::Append(body.clone());
        self.send(&request, Some(session_id))
    }

    /// Sends one request; an append needs the session id.
    ///
    /// ```
    /// use event_center::{WayfoundClient, WayfoundErrorKind, WayfoundRequest, WayfoundSession};
    ///
    /// let client = WayfoundClient::new("api-key");
    /// let append = WayfoundRequest::Append(WayfoundSession::new("agent-uuid").append_body(vec![]));
    /// let err = client.send(&append, None).unwrap_err();
    /// assert_eq!(err.kind(), &WayfoundErrorKind::MissingSessionId);
    /// ```
    pub fn send(
        &self,
        request: &WayfoundRequest,
        session_id: Option<&str>,
    ) -> Result<WayfoundResponse, WayfoundError> {
        let path = request.path(session_id);
        let label = format!("{} {path}", request.method());
        let error = |kind, status, body: String| WayfoundError {
            kind,
            request: label.clone(),
            status,
            body,
            session_id: None,
        };
        if matches!(request, WayfoundRequest::Append(_)) && session_id.is_none() {
            return Err(error(
                WayfoundErrorKind::MissingSessionId,
                None,
                "an append needs the id of the session the create answered with".into(),
            ));
        }
        let body = serde_json::to_string(request).unwrap_or_default();
        let answer = self
            .agent
            .request(request.method(), &format!("{}{path}", self.base_url))
            .set("Authorization", &format!("Bearer {}", self.api_key))
            .set("Content-Type", "application/json")
            .set("Accept", "application/json")
            .send_string(&body);
        let (status, text) = match answer {
            Ok(response) => {
                let status = response.status();
                let text = response.into_string().map_err(|e| {
                    error(WayfoundErrorKind::Transport, Some(status), e.to_string())
                })?;
                (status, text)
            }
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let kind = match status {
                    400 => WayfoundErrorKind::BadRequest,
                    401 | 403 => WayfoundErrorKind::Unauthorized,
                    404 => WayfoundErrorKind::NotFound,
                    413 => WayfoundErrorKind::PayloadTooLarge,
                    429 => WayfoundErrorKind::RateLimited,
                    500..=599 => WayfoundErrorKind::Server,
                    _ => WayfoundErrorKind::UnexpectedStatus,
                };
                return Err(error(kind, Some(status), text));
            }
            Err(ureq::Error::Transport(transport)) => {
                return Err(error(
                    WayfoundErrorKind::Transport,
                    None,
                    transport.to_string(),
                ));
            }
        };
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| {
                error(
                    WayfoundErrorKind::InvalidResponse,
                    Some(status),
                    format!("not JSON ({e}): {text}"),
                )
            })?
        };
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| session_id.map(str::to_owned));
        let Some(id) = id else {
            return Err(error(
                WayfoundErrorKind::InvalidResponse,
                Some(status),
                format!("no session id in the answer: {text}"),
            ));
        };
        match status {
            202 => Ok(WayfoundResponse::Pending { id, body: value }),
            200..=299 => {
                let grade = value
                    .get("grade")
                    .filter(|g| g.is_object())
                    .and_then(|g| WayfoundGrade::deserialize(g).ok());
                Ok(match grade {
                    Some(grade) => WayfoundResponse::Analyzed {
                        id,
                        grade,
                        body: value,
                    },
                    None => WayfoundResponse::Recorded { id, body: value },
                })
            }
            _ => Err(error(
                WayfoundErrorKind::UnexpectedStatus,
                Some(status),
                text,
            )),
        }
    }

    /// Sends a whole transcript: the create, then each further batch as an
    /// append to the created session (see [`WayfoundSession::requests`]).
    /// Returns the last answer (with the grade, for `async: false`). If an
    /// append fails, the error names the created session.
    ///
    /// ```no_run
    /// # use event_center::{SizeBudget, Transcript, WayfoundClient, WayfoundSession};
    /// let client = WayfoundClient::new("api-key");
    /// let answer = client
    ///     .send_transcript(&WayfoundSession::new("agent-uuid"), &Transcript::default(), &SizeBudget::default())
    ///     .unwrap();
    /// println!("{}", answer.id());
    /// ```
    pub fn send_transcript(
        &self,
        session: &WayfoundSession,
        transcript: &Transcript,
        budget: &SizeBudget,
    ) -> Result<WayfoundResponse, WayfoundError> {
        let mut id: Option<String> = None;
        let mut last = None;
        for request in session.requests(transcript, budget) {
            let answer = self.send(&request, id.as_deref()).map_err(|mut e| {
                e.session_id = id.clone();
                e
            })?;
            if id.is_none() {
                id = Some(answer.id().to_owned());
            }
            last = Some(answer);
        }
        // `requests` always holds the create, so there is a last answer.
        last.ok_or_else(|| WayfoundError {
            kind: WayfoundErrorKind::InvalidResponse,
            request: "POST /api/v2/sessions".into(),
            status: None,
            body: "no request was sent".into(),
            session_id: None,
        })
    }
}
