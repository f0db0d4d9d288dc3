//! The compatibility layer: legacy alias tables and the action -> tool mirror.

use std::collections::HashSet;

const TRIGGERFLOW_WORKFLOW_SUFFIXES: [&str; 8] = [
    "definition_declared",
    "execution_started",
    "execution_completed",
    "execution_failed",
    "execution_resumed",
    "interrupt_raised",
    "stream_item_emitted",
    "result_set",
];
const TRIGGERFLOW_NATIVE_SUFFIXES: [&str; 3] = ["signal", "handler_dispatch", "annotation"];
const ACTION_TOOL_SUFFIXES: [&str; 4] = [
    "loop_started",
    "plan_ready",
    "loop_failed",
    "loop_completed",
];

/// The compatibility tables a center applies: alias families that make old
/// event names match new patterns and back, and mirrors that re-emit one
/// family's events as another's twins.
///
/// [`Compat::agently`] (the default) is Agently 4.1.x's behaviour:
/// `workflow.<s>` and `trigger_flow.<s>` alias `triggerflow.<s>` for the
/// TriggerFlow suffixes, and `action.loop_started`, `action.plan_ready`,
/// `action.loop_failed` and `action.loop_completed` are mirrored as `tool.*`.
///
/// ```
/// use event_center::{Compat, Mirror};
///
/// let agently = Compat::agently();
/// assert_eq!(agently.aliases("workflow.execution_started"), vec!["triggerflow.execution_started"]);
/// assert_eq!(agently.mirror_of("action.plan_ready").unwrap().0, "tool.plan_ready");
/// assert!(agently.mirror_of("action.started").is_none());
///
/// // Mirror every action.* event, keep the TriggerFlow aliases.
/// let all_actions = Compat::agently().with_mirrors(vec![Mirror::new("action", "tool")]);
/// assert_eq!(all_actions.mirror_of("action.started").unwrap().0, "tool.started");
/// ```
#[derive(Clone, Debug)]
pub struct Compat {
    aliases: Vec<AliasFamily>,
    mirrors: Vec<Mirror>,
}

impl Default for Compat {
    fn default() -> Self {
        Compat::agently()
    }
}

impl Compat {
    /// Agently 4.1.x's tables (the default).
    ///
    /// ```
    /// let c = event_center::Compat::agently();
    /// assert_eq!(c.aliases("triggerflow.signal"), vec!["trigger_flow.signal"]);
    /// ```
    pub fn agently() -> Self {
        Compat {
            aliases: vec![
                AliasFamily::new("triggerflow", "workflow", TRIGGERFLOW_WORKFLOW_SUFFIXES),
                AliasFamily::new("triggerflow", "trigger_flow", TRIGGERFLOW_NATIVE_SUFFIXES),
            ],
            mirrors: vec![Mirror::new("action", "tool").with_suffixes(ACTION_TOOL_SUFFIXES)],
        }
    }

    /// No aliases and no mirrors: event types match only themselves.
    ///
    /// ```
    /// let c = event_center::Compat::none();
    /// assert!(c.aliases("workflow.execution_started").is_empty());
    /// assert!(c.mirror_of("action.loop_started").is_none());
    /// ```
    pub fn none() -> Self {
        Compat {
            aliases: Vec::new(),
            mirrors: Vec::new(),
        }
    }

    /// Adds an alias family.
    ///
    /// ```
    /// use event_center::{AliasFamily, Compat};
    /// let c = Compat::none().with_alias(AliasFamily::new("agent", "assistant", ["started"]));
    /// assert_eq!(c.aliases("assistant.started"), vec!["agent.started"]);
    /// ```
    pub fn with_alias(mut self, family: AliasFamily) -> Self {
        self.aliases.push(family);
        self
    }

    /// Replaces the mirror table.
    ///
    /// ```
    /// use event_center::Compat;
    /// let c = Compat::agently().with_mirrors(vec![]);
    /// assert!(c.mirror_of("action.loop_started").is_none());
    /// ```
    pub fn with_mirrors(mut self, mirrors: Vec<Mirror>) -> Self {
        self.mirrors = mirrors;
        self
    }

    /// The other names of an event type (not including itself), for pattern
    /// matching: a legacy name's canonical name and the canonical name's
    /// other legacy names, or a canonical name's legacy names.
    ///
    /// ```
    /// let c = event_center::Compat::agently();
    /// assert_eq!(c.aliases("triggerflow.result_set"), vec!["workflow.result_set"]);
    /// assert!(c.aliases("workflow.custom_step").is_empty());
    /// ```
    pub fn aliases(&self, event_type: &str) -> Vec<String> {
        let canonical = self.aliases.iter().find_map(|family| {
            let suffix = event_type
                .strip_prefix(family.legacy.as_str())
                .or_else(|| event_type.strip_prefix(family.canonical.as_str()))?;
            family
                .suffixes
                .contains(suffix)
                .then_some((family.canonical.as_str(), suffix))
        });
        let Some((prefix, suffix)) = canonical else {
            return Vec::new();
        };
        let mut names = vec![format!("{prefix}{suffix}")];
        for family in &self.aliases {
            if family.canonical == prefix && family.suffixes.contains(suffix) {
                names.push(format!("{}{suffix}", family.legacy));
            }
        }
        names.retain(|name| name != event_type);
        names.dedup();
        names
    }

    /// The twin type and family an event type is mirrored as, if any.
    ///
    /// ```
    /// let c = event_center::Compat::agently();
    /// assert_eq!(c.mirror_of("action.loop_failed"), Some(("tool.loop_failed".to_string(), "tool")));
    /// ```
    pub fn mirror_of(&self, event_type: &str) -> Option<(String, &str)> {
        self.mirrors.iter().find_map(|mirror| {
            let suffix = event_type.strip_prefix(mirror.from.as_str())?;
            let listed = match &mirror.suffixes {
                Some(suffixes) => suffixes.contains(suffix),
                None => !suffix.is_empty(),
            };
            listed.then(|| (format!("{}{suffix}", mirror.to), mirror.family.as_str()))
        })
    }
}

/// One alias family: `<legacy>.<s>` and `<canonical>.<s>` name the same
/// event for each listed suffix `s`, in both directions.
///
/// ```
/// use event_center::AliasFamily;
/// let family = AliasFamily::new("triggerflow", "workflow", ["execution_started"]);
/// # let _ = family;
/// ```
#[derive(Clone, Debug)]
pub struct AliasFamily {
    canonical: String,
    legacy: String,
    suffixes: HashSet<String>,
}

impl AliasFamily {
    /// A family from the canonical and legacy prefixes (with or without the
    /// trailing dot) and the aliased suffixes.
    pub fn new<S: AsRef<str>>(
        canonical: &str,
        legacy: &str,
        suffixes: impl IntoIterator<Item = S>,
    ) -> Self {
        AliasFamily {
            canonical: dotted(canonical),
            legacy: dotted(legacy),
            suffixes: suffixes
                .into_iter()
                .map(|s| s.as_ref().to_owned())
                .collect(),
        }
    }
}

/// One mirror rule: after an event `<from>.<s>` is delivered, the center
/// emits a twin `<to>.<s>` whose meta marks it as a compatibility alias
/// (`compat_event_alias`, `compat_alias_for`, `primary_event_id`,
/// `compat_family`). By default every suffix is mirrored.
///
/// ```
/// use event_center::Mirror;
/// let every_action = Mirror::new("action", "tool");
/// let some = Mirror::new("action", "tool").with_suffixes(["loop_started"]);
/// # let _ = (every_action, some);
/// ```
#[derive(Clone, Debug)]
pub struct Mirror {
    from: String,
    to: String,
    family: String,
    suffixes: Option<HashSet<String>>,
}

impl Mirror {
    /// Mirrors every `<from>.*` event as `<to>.*`; the family name written
    /// into the twin's meta is `to`.
    pub fn new(from: &str, to: &str) -> Self {
        let to = dotted(to);
        Mirror {
            from: dotted(from),
            family: to.trim_end_matches('.').to_owned(),
            to,
            suffixes: None,
        }
    }

    /// Mirrors only these suffixes.
    pub fn with_suffixes<S: AsRef<str>>(mut self, suffixes: impl IntoIterator<Item = S>) -> Self {
        self.suffixes = Some(
            suffixes
                .into_iter()
                .map(|s| s.as_ref().to_owned())
                .collect(),
        );
        self
    }

    /// Sets the family name written as `compat_family` (and compared with a
    /// primary's `compat_event_family`).
    pub fn with_family(mut self, family: impl Into<String>) -> Self {
        self.family = family.into();
        self
    }
}

fn dotted(prefix: &str) -> String {
    if prefix.ends_with('.') {
        prefix.to_owned()
    } else {
        format!("{prefix}.")
    }
}
