//! Names Kubernetes accepts: every object name Ember makes is a DNS-1123 label (lower-case
//! letters, digits and `-`, starting and ending with an alphanumeric, at most 63 characters).

use rand::Rng;

/// Who an application is: the name users gave it, a unique id, and the prefix of every
/// object name it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    /// `spark.app.name`, as given.
    pub name: String,
    /// `ember-` and 16 hex digits; the value of the `ember-app-id` label.
    pub id: String,
    /// Identifies one `ember submit` invocation, so a retried submission finds what it made.
    pub submission_id: String,
    /// Prefix of object names: the name as a DNS label, and 8 hex digits of the id.
    pub prefix: String,
}

impl AppIdentity {
    pub fn new(name: &str) -> AppIdentity {
        let mut rng = rand::rng();
        let id: u64 = rng.random();
        let submission: u64 = rng.random();
        AppIdentity::with_ids(name, &format!("{id:016x}"), &format!("{submission:016x}"))
    }

    /// The identity `conf` names (`ember.kubernetes.appId`, `ember.kubernetes.submissionId`:
    /// a submitted driver pod, a retried submission, repeatable output), else a new one.
    pub fn from_conf(conf: &ember_config::EmberConf) -> AppIdentity {
        let name = conf.get("spark.app.name").unwrap_or("ember");
        let mut identity = match conf.get("ember.kubernetes.appId") {
            Some(id) => AppIdentity::with_ids(name, id.strip_prefix("ember-").unwrap_or(id), id),
            None => AppIdentity::new(name),
        };
        if let Some(submission) = conf.get("ember.kubernetes.submissionId") {
            identity.submission_id = submission.to_string();
        }
        identity
    }

    /// An identity with fixed ids, for repeatable output (`--dry-run` goldens, retries).
    pub fn with_ids(name: &str, id_hex: &str, submission_hex: &str) -> AppIdentity {
        let short = &id_hex[..id_hex.len().min(8)];
        // Room for the longest suffix Ember appends (`-exec-99999`, `-driver-svc`).
        let base = dns_label(name, 63 - short.len() - 1 - 11);
        AppIdentity {
            name: name.to_string(),
            id: format!("ember-{id_hex}"),
            submission_id: submission_hex.to_string(),
            prefix: format!("{base}-{short}"),
        }
    }
}

/// `text` as a DNS-1123 label of at most `max` characters: lower-cased, runs of other
/// characters turned into one `-`, trimmed of `-` at both ends; `app` when nothing is left.
pub fn dns_label(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "app".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Revenue Report (Q3)", 63), "revenue-report-q3");
        assert_eq!(dns_label("__", 63), "app");
        assert_eq!(dns_label("a-very-long-name", 7), "a-very");
        let id = AppIdentity::with_ids(&"X".repeat(200), "0123456789abcdef", "1");
        assert!(id.prefix.len() + "-driver-svc".len() <= 63, "{}", id.prefix);
        assert!(id.prefix.ends_with("-01234567"));
        assert_eq!(id.id, "ember-0123456789abcdef");
    }
}
