//! Weni's Datalake records (the `weni_nexus_data` analytics events a Weni
//! tool registers), mapped from the events of one execution, and their
//! validation.
//!
//! A tool registers a record by emitting an event of type
//! [`DatalakeRecord::EVENT_TYPE`] whose payload holds the record's fields
//! ([`DatalakeRecord::register`] does it); the framework runs each
//! execution in a [capture](crate::EventCenter::capture) and turns the
//! captured events into a [`DatalakeBatch`].

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::emitter::Emitter;
use crate::event::{now_millis, Event, EventId, JsonMap};
use crate::integrations::iso8601_utc;

/// One Weni Datalake record: `{event_name, key, value_type, value, metadata,
/// date}`, serialized as Weni's tools send it.
///
/// Built by a tool with [`new`](DatalakeRecord::new) and
/// [`register`](DatalakeRecord::register)ed through an emitter, or mapped
/// back from such an event with [`from_event`](DatalakeRecord::from_event).
///
/// ```
/// use event_center::DatalakeRecord;
///
/// let record = DatalakeRecord::new("order_placed", "string", "completed")
///     .with_metadata("order_id", "order_123");
/// assert_eq!(record.event_name, "weni_nexus_data");
/// assert!(record.date.ends_with('Z'));
/// assert!(record.validate().is_ok());
///
/// let wire = serde_json::to_value(&record).unwrap();
/// assert_eq!(wire["key"], "order_placed");
/// assert_eq!(wire["metadata"]["order_id"], "order_123");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DatalakeRecord {
    /// Always [`EVENT_NAME`](DatalakeRecord::EVENT_NAME) for the Datalake
    /// to take the record.
    pub event_name: String,
    /// What the record is about, such as `conversation_classification`.
    pub key: String,
    /// The type of `value`: `string`, `int`, ...
    pub value_type: String,
    /// The value; never `null`.
    pub value: Value,
    /// Additional data (`{}` when there is none).
    #[serde(default)]
    pub metadata: JsonMap,
    /// When it happened: ISO-8601, UTC.
    pub date: String,
}

impl DatalakeRecord {
    /// The `event_name` the Datalake accepts.
    pub const EVENT_NAME: &'static str = "weni_nexus_data";

    /// The type of the events that carry a record in their payload.
    pub const EVENT_TYPE: &'static str = "weni.event_registered";

    /// A record with event name [`EVENT_NAME`](DatalakeRecord::EVENT_NAME),
    /// no metadata, and the current time as its date.
    ///
    /// ```
    /// let record = event_center::DatalakeRecord::new("csat", "int", 5);
    /// assert_eq!(record.value, 5);
    /// assert!(record.metadata.is_empty());
    /// ```
    pub fn new(
        key: impl Into<String>,
        value_type: impl Into<String>,
        value: impl Into<Value>,
    ) -> Self {
        DatalakeRecord {
            event_name: DatalakeRecord::EVENT_NAME.to_owned(),
            key: key.into(),
            value_type: value_type.into(),
            value: value.into(),
            metadata: JsonMap::new(),
            date: iso8601_utc(now_millis()),
        }
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Registers the record: emits an event of type
    /// [`EVENT_TYPE`](DatalakeRecord::EVENT_TYPE) carrying it as its
    /// payload, for the capture of the current execution (and any hook) to
    /// collect. Not validated here: the framework validates the batch.
    ///
    /// ```
    /// use event_center::{DatalakeRecord, EventCenter};
    ///
    /// let center = EventCenter::new();
    /// let emitter = center.emitter("ClassifyConversation");
    /// let captured = center.capture_sync(|| {
    ///     DatalakeRecord::new("conversation_classification", "string", "resolved").register(&emitter);
    /// });
    /// let back = DatalakeRecord::from_event(&captured.events[0]).unwrap();
    /// assert_eq!(back.value, "resolved");
    /// ```
    pub fn register(self, emitter: &Emitter) {
        let mut payload = JsonMap::new();
        payload.insert("event_name".into(), Value::String(self.event_name));
        payload.insert("key".into(), Value::String(self.key));
        payload.insert("value_type".into(), Value::String(self.value_type));
        payload.insert("value".into(), self.value);
        payload.insert("metadata".into(), Value::Object(self.metadata));
        payload.insert("date".into(), Value::String(self.date));
        emitter
            .emit(DatalakeRecord::EVENT_TYPE)
            .payload(Value::Object(payload))
            .send();
    }

    /// Maps an event to a record and validates it. The payload's
    /// `event_name`, `key`, `value_type` and `value` become the record's;
    /// `metadata` defaults to `{}`; `date` is the payload's when it has one,
    /// else the event's timestamp as ISO-8601 UTC with milliseconds and `Z`
    /// (whatever the process time zone). Every problem is reported at once.
    ///
    /// ```
    /// use event_center::{DatalakeRecord, Event};
    /// use serde_json::json;
    ///
    /// let event = Event::new(DatalakeRecord::EVENT_TYPE)
    ///     .with_timestamp(1_700_000_000_123)
    ///     .with_payload(json!({
    ///         "event_name": "weni_nexus_data",
    ///         "key": "conversation_classification",
    ///         "value_type": "string",
    ///         "value": "resolved",
    ///     }));
    /// let record = DatalakeRecord::from_event(&event).unwrap();
    /// assert_eq!(record.date, "2023-11-14T22:13:20.123Z");
    /// assert!(record.metadata.is_empty());
    ///
    /// let bad = Event::new(DatalakeRecord::EVENT_TYPE).with_payload(json!({"key": " ", "value_type": 3}));
    /// let err = DatalakeRecord::from_event(&bad).unwrap_err();
    /// let fields: Vec<_> = err.violations().iter().map(|v| v.field()).collect();
    /// assert_eq!(fields, ["event_name", "key", "value_type", "value"]);
    /// ```
    pub fn from_event(event: &Event) -> Result<DatalakeRecord, DatalakeError> {
        let mut violations = Vec::new();
        let empty = JsonMap::new();
        let payload = match &event.payload {
            Value::Object(payload) => payload,
            _ => {
                violations.push(Violation::wrong_type("payload", "a JSON object"));
                &empty
            }
        };
        let mut text = |field: &'static str| match payload.get(field) {
            None | Some(Value::Null) => Some(String::new()),
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                violations.push(Violation::wrong_type(field, "a string"));
                None
            }
        };
        let event_name = text("event_name");
        let key = text("key");
        let value_type = text("value_type");
        let date = match payload.get("date") {
            None | Some(Value::Null) => Some(iso8601_utc(event.timestamp)),
            Some(_) => text("date"),
        };
        let metadata = match payload.get("metadata") {
            None | Some(Value::Null) => JsonMap::new(),
            Some(Value::Object(metadata)) => metadata.clone(),
            Some(_) => {
                violations.push(Violation::wrong_type("metadata", "a JSON object"));
                JsonMap::new()
            }
        };
        // A field of the wrong type is reported once, not again as blank.
        let mistyped: Vec<&'static str> = violations.iter().map(|v| v.field).collect();
        let record = DatalakeRecord {
            event_name: event_name.unwrap_or_default(),
            key: key.unwrap_or_default(),
            value_type: value_type.unwrap_or_default(),
            value: payload.get("value").cloned().unwrap_or(Value::Null),
            metadata,
            date: date.unwrap_or_default(),
        };
        violations.extend(record.violations().filter(|v| !mistyped.contains(&v.field)));
        if violations.is_empty() {
            Ok(record)
        } else {
            violations.sort_by_key(|v| FIELD_ORDER.iter().position(|f| *f == v.field));
            Err(DatalakeError { violations })
        }
    }

    /// Checks the record against the Datalake's profile: `event_name` is
    /// [`EVENT_NAME`](DatalakeRecord::EVENT_NAME); `key`, `value_type` and
    /// `date` are not blank; `value` is not `null`. Every violation is
    /// reported at once.
    ///
    /// ```
    /// use event_center::{DatalakeRecord, ViolationKind};
    ///
    /// let mut record = DatalakeRecord::new("", "string", serde_json::Value::Null);
    /// record.event_name = "order_placed".into();
    /// let err = record.validate().unwrap_err();
    /// assert_eq!(err.violations().len(), 3);
    /// assert!(matches!(err.violations()[0].kind(), ViolationKind::WrongEventName { found } if found == "order_placed"));
    /// assert!(err.to_string().contains("key is blank"));
    /// ```
    pub fn validate(&self) -> Result<(), DatalakeError> {
        let violations: Vec<_> = self.violations().collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(DatalakeError { violations })
        }
    }

    /// The violations, in field order.
    fn violations(&self) -> impl Iterator<Item = Violation> {
        let blank = |field: &'static str, text: &str| {
            text.trim()
                .is_empty()
                .then(|| Violation::new(field, ViolationKind::Blank))
        };
        let wrong_name = (self.event_name != DatalakeRecord::EVENT_NAME).then(|| {
            let found = self.event_name.clone();
            Violation::new("event_name", ViolationKind::WrongEventName { found })
        });
        let null = self
            .value
            .is_null()
            .then(|| Violation::new("value", ViolationKind::Null));
        [
            wrong_name,
            blank("key", &self.key),
            blank("value_type", &self.value_type),
            null,
            blank("date", &self.date),
        ]
        .into_iter()
        .flatten()
    }
}

/// The order violations are listed in: the record's field order.
const FIELD_ORDER: [&str; 7] = [
    "payload",
    "event_name",
    "key",
    "value_type",
    "value",
    "metadata",
    "date",
];

/// One thing wrong with a Datalake record: which field, and how.
///
/// ```
/// use event_center::{DatalakeRecord, ViolationKind};
/// let record = DatalakeRecord::new("csat", " ", 5);
/// let err = record.validate().unwrap_err();
/// assert_eq!(err.violations()[0].field(), "value_type");
/// assert_eq!(err.violations()[0].kind(), &ViolationKind::Blank);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    field: &'static str,
    kind: ViolationKind,
}

/// How a Datalake record's field is wrong; see [`Violation`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// `event_name` is not [`DatalakeRecord::EVENT_NAME`] (found: what it
    /// is, empty when missing).
    WrongEventName {
        /// The event name found.
        found: String,
    },
    /// A required text field is missing, empty or only whitespace.
    Blank,
    /// `value` is missing or `null`.
    Null,
    /// The field has the wrong JSON type.
    WrongType {
        /// What it should be, such as `a string`.
        expected: &'static str,
    },
}

impl Violation {
    fn new(field: &'static str, kind: ViolationKind) -> Violation {
        Violation { field, kind }
    }

    fn wrong_type(field: &'static str, expected: &'static str) -> Violation {
        Violation::new(field, ViolationKind::WrongType { expected })
    }

    /// The field: `event_name`, `key`, `value_type`, `value`, `metadata`,
    /// `date`, or `payload` when the event's payload is not an object.
    ///
    /// ```
    /// let err = event_center::DatalakeRecord::new("k", "string", serde_json::Value::Null)
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.violations()[0].field(), "value");
    /// ```
    pub fn field(&self) -> &str {
        self.field
    }

    /// What is wrong with it.
    ///
    /// ```
    /// use event_center::{DatalakeRecord, ViolationKind};
    /// let err = DatalakeRecord::new("k", "string", serde_json::Value::Null).validate().unwrap_err();
    /// assert_eq!(err.violations()[0].kind(), &ViolationKind::Null);
    /// ```
    pub fn kind(&self) -> &ViolationKind {
        &self.kind
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field;
        match &self.kind {
            ViolationKind::WrongEventName { found } => write!(
                f,
                "event_name must be \"{}\", found \"{found}\"",
                DatalakeRecord::EVENT_NAME
            ),
            ViolationKind::Blank => write!(f, "{field} is blank"),
            ViolationKind::Null => write!(f, "{field} is null"),
            ViolationKind::WrongType { expected } => write!(f, "{field} must be {expected}"),
        }
    }
}

/// A Datalake record that breaks the profile, with every violation found;
/// see [`DatalakeRecord::validate`].
///
/// ```
/// let err = event_center::DatalakeRecord::new(" ", "", 1).validate().unwrap_err();
/// assert_eq!(err.violations().len(), 2);
/// assert!(err.to_string().starts_with("invalid Datalake record: key is blank; value_type is blank"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatalakeError {
    violations: Vec<Violation>,
}

impl DatalakeError {
    /// Every violation, in the record's field order (never empty).
    ///
    /// ```
    /// let err = event_center::DatalakeRecord::new("", "", 1).validate().unwrap_err();
    /// assert_eq!(err.violations()[1].field(), "value_type");
    /// ```
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }
}

impl fmt::Display for DatalakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid Datalake record: ")?;
        for (i, violation) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        write!(
            f,
            " (register it with event_name \"{}\", a non-blank key, value_type and date, and a non-null value)",
            DatalakeRecord::EVENT_NAME
        )
    }
}

impl std::error::Error for DatalakeError {}

/// The Datalake records of one execution's events: the good ones kept, each
/// bad one dropped alone and reported with its violations. Events of other
/// types than [`DatalakeRecord::EVENT_TYPE`] are not records and are
/// skipped.
///
/// ```
/// use event_center::{DatalakeBatch, DatalakeRecord, EventCenter};
///
/// let center = EventCenter::new();
/// let tool = center.emitter("Tool");
/// let captured = center.capture_sync(|| {
///     DatalakeRecord::new("csat", "int", 5).register(&tool);
///     DatalakeRecord::new("", "int", 4).register(&tool); // no key
///     tool.info("done").send(); // not a record
/// });
/// let batch = DatalakeBatch::from_events(&captured.events);
/// assert_eq!(batch.records.len(), 1);
/// assert_eq!(batch.dropped(), 1);
/// assert_eq!(batch.rejected[0].error.violations()[0].field(), "key");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct DatalakeBatch {
    /// The valid records, in event order.
    pub records: Vec<DatalakeRecord>,
    /// The events whose record was dropped, in event order.
    pub rejected: Vec<RejectedRecord>,
}

/// A record dropped from a [`DatalakeBatch`]: the event it came from and
/// why.
///
/// ```
/// use event_center::{DatalakeBatch, Event, DatalakeRecord};
/// let event = std::sync::Arc::new(Event::new(DatalakeRecord::EVENT_TYPE));
/// let batch = DatalakeBatch::from_events([&event]);
/// assert_eq!(batch.rejected[0].event_id, event.event_id);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RejectedRecord {
    /// The id of the event that carried the record.
    pub event_id: EventId,
    /// Every violation found.
    pub error: DatalakeError,
}

impl DatalakeBatch {
    /// Maps every [`DatalakeRecord::EVENT_TYPE`] event with
    /// [`DatalakeRecord::from_event`], keeping the valid records and
    /// dropping (and listing) the others.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_center::{DatalakeBatch, Event};
    /// let events: Vec<Arc<Event>> = vec![Arc::new(Event::new("runtime.info"))];
    /// let batch = DatalakeBatch::from_events(&events);
    /// assert!(batch.records.is_empty() && batch.rejected.is_empty());
    /// ```
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Arc<Event>>) -> DatalakeBatch {
        let mut batch = DatalakeBatch::default();
        for event in events {
            if event.event_type != DatalakeRecord::EVENT_TYPE {
                continue;
            }
            match DatalakeRecord::from_event(event) {
                Ok(record) => batch.records.push(record),
                Err(error) => batch.rejected.push(RejectedRecord {
                    event_id: event.event_id.clone(),
                    error,
                }),
            }
        }
        batch
    }

    /// How many records were dropped.
    pub fn dropped(&self) -> usize {
        self.rejected.len()
    }
}
