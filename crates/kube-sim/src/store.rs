//! The API server's storage: objects by kind, namespace and name; one resourceVersion counter
//! for everything; and the history of changes that watches replay from a resourceVersion.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The kinds the simulator serves, by their URL plural.
pub const KINDS: &[(&str, &str)] = &[
    ("pods", "Pod"),
    ("services", "Service"),
    ("configmaps", "ConfigMap"),
    ("secrets", "Secret"),
    ("events", "Event"),
    ("resourcequotas", "ResourceQuota"),
];

pub fn kind_of(plural: &str) -> Option<&'static str> {
    KINDS.iter().find(|(p, _)| *p == plural).map(|(_, k)| *k)
}

#[derive(Debug, Clone)]
pub struct Change {
    pub resource_version: u64,
    pub plural: String,
    pub namespace: String,
    /// ADDED, MODIFIED or DELETED.
    pub kind: &'static str,
    pub object: Value,
}

#[derive(Default)]
pub struct Store {
    resource_version: u64,
    /// (plural, namespace, name) -> object
    objects: BTreeMap<(String, String, String), Value>,
    history: Vec<Change>,
    next_uid: u64,
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    pub fn get(&self, plural: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&(plural.to_string(), namespace.to_string(), name.to_string()))
    }

    /// Objects of `plural` in `namespace` (every namespace when `None`).
    pub fn list(&self, plural: &str, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|((p, ns, _), _)| p == plural && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v)
            .collect()
    }

    pub fn changes_since(&self, resource_version: u64) -> Vec<Change> {
        self.history
            .iter()
            .filter(|c| c.resource_version > resource_version)
            .cloned()
            .collect()
    }

    fn bump(&mut self, object: &mut Value) -> u64 {
        self.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.resource_version
    }

    fn record(&mut self, plural: &str, namespace: &str, kind: &'static str, object: &Value) {
        self.history.push(Change {
            resource_version: self.resource_version,
            plural: plural.to_string(),
            namespace: namespace.to_string(),
            kind,
            object: object.clone(),
        });
    }

    /// Stores a new object, giving it a uid, resourceVersion and creation time.
    pub fn create(&mut self, plural: &str, namespace: &str, mut object: Value) -> Value {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.next_uid += 1;
        let meta = &mut object["metadata"];
        meta["namespace"] = json!(namespace);
        meta["uid"] = json!(uuid::Uuid::new_v4().to_string());
        meta["creationTimestamp"] = json!(now());
        self.bump(&mut object);
        self.record(plural, namespace, "ADDED", &object);
        self.objects.insert(
            (plural.to_string(), namespace.to_string(), name),
            object.clone(),
        );
        object
    }

    /// Replaces a stored object (its status, or a spec change), bumping its resourceVersion.
    pub fn update(&mut self, plural: &str, namespace: &str, mut object: Value) -> Value {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.bump(&mut object);
        self.record(plural, namespace, "MODIFIED", &object);
        self.objects.insert(
            (plural.to_string(), namespace.to_string(), name),
            object.clone(),
        );
        object
    }

    pub fn remove(&mut self, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        let mut object =
            self.objects
                .remove(&(plural.to_string(), namespace.to_string(), name.to_string()))?;
        self.bump(&mut object);
        self.record(plural, namespace, "DELETED", &object);
        Some(object)
    }

    /// Removes an object without a trace in the history, so watchers never hear of it.
    pub fn forget(&mut self, plural: &str, namespace: &str, name: &str) {
        self.objects
            .remove(&(plural.to_string(), namespace.to_string(), name.to_string()));
    }

    /// Every object (of any kind) that names `uid` among its owners.
    pub fn dependents(&self, uid: &str) -> Vec<(String, String, String)> {
        self.objects
            .iter()
            .filter(|(_, v)| {
                v["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|owners| owners.iter().any(|o| o["uid"] == uid))
            })
            .map(|(key, _)| key.clone())
            .collect()
    }
}

pub fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // RFC 3339 in UTC, computed without a date library.
    let days = seconds / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rest = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A label selector as the API takes it: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
/// `a notin (x,y)`, joined by commas.
pub fn matches_labels(selector: &str, labels: &Value) -> bool {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    split_selector(selector).iter().all(|term| {
        let term = term.trim();
        if term.is_empty() {
            return true;
        }
        if let Some((key, values)) = term.split_once(" notin ") {
            let values = set_values(values);
            return label(key.trim()).is_none_or(|v| !values.contains(&v));
        }
        if let Some((key, values)) = term.split_once(" in ") {
            let values = set_values(values);
            return label(key.trim()).is_some_and(|v| values.contains(&v));
        }
        if let Some((key, value)) = term.split_once("!=") {
            return label(key.trim()) != Some(value.trim());
        }
        if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
            return label(key.trim()) == Some(value.trim());
        }
        if let Some(key) = term.strip_prefix('!') {
            return label(key.trim()).is_none();
        }
        label(term).is_some()
    })
}

fn set_values(text: &str) -> Vec<&str> {
    text.trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .collect()
}

/// Splits at commas outside parentheses.
fn split_selector(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// A field selector over the fields Ember and kube-rs use: `metadata.name`,
/// `metadata.namespace`, `status.phase`, with `=`, `==` or `!=`.
pub fn matches_fields(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (field, value, equal) = match term.split_once("!=") {
            Some((f, v)) => (f, v, false),
            None => match term.split_once("==").or_else(|| term.split_once('=')) {
                Some((f, v)) => (f, v, true),
                None => return false,
            },
        };
        let mut current = object;
        for part in field.trim().split('.') {
            current = &current[part];
        }
        (current.as_str().unwrap_or_default() == value.trim()) == equal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let labels = json!({"app": "ember", "role": "executor"});
        assert!(matches_labels(
            "app=ember,role in (driver, executor)",
            &labels
        ));
        assert!(matches_labels("app==ember,!missing,role", &labels));
        assert!(!matches_labels("role!=executor", &labels));
        assert!(!matches_labels("role notin (executor)", &labels));
        let pod = json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}});
        assert!(matches_fields("metadata.name=p,status.phase!=Failed", &pod));
        assert!(!matches_fields("status.phase=Pending", &pod));
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_413), (2025, 11, 21));
        assert!(now().ends_with('Z'));
    }
}
