//! Value types a setting can have, and their parsers.

use std::time::Duration;

/// The type of a setting's value; every value is validated against it before it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Bool,
    /// A whole number in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A size such as `512m`, `4g` or `1048576` (bytes), Spark's spelling.
    Bytes,
    /// A size, or `-1` for "off" (Spark's spelling for thresholds that can be disabled).
    SizeOrOff,
    /// A decimal number greater than zero, such as `0.1`.
    Fraction,
    /// A duration such as `120s`, `5m`, `500ms` (a bare number means seconds, as in Spark).
    Duration,
    String,
    /// One of a fixed set of words, compared case-insensitively.
    Enum(&'static [&'static str]),
    /// A master URL: `local`, `local[N]`, `local[*]`, `local-cluster[E,C,M]`,
    /// `ember-driver://HOST:PORT`.
    Master,
}

impl ValueKind {
    /// What a user should write, for error messages and docs.
    pub fn describe(&self) -> String {
        match self {
            ValueKind::Bool => "a boolean (true or false)".into(),
            ValueKind::Int { min, max } if *max == i64::MAX => {
                format!("an integer >= {min}")
            }
            ValueKind::Int { min, max } => format!("an integer from {min} to {max}"),
            ValueKind::Bytes => "a size in bytes, e.g. 512m, 4g or 1048576".into(),
            ValueKind::SizeOrOff => "a size in bytes, e.g. 10m, or -1 for off".into(),
            ValueKind::Fraction => "a decimal number above 0, e.g. 0.1".into(),
            ValueKind::Duration => "a duration, e.g. 500ms, 120s or 5m".into(),
            ValueKind::String => "a string".into(),
            ValueKind::Enum(words) => format!("one of {}", words.join(", ")),
            ValueKind::Master => {
                "a master URL: local, local[N], local[*], local-cluster[E,C,M], ember-driver://HOST:PORT or k8s://https://HOST:PORT".into()
            }
        }
    }

    /// Validates `raw` and returns the canonical form to store, or `None` when it does not
    /// fit this kind.
    pub(crate) fn normalize(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        match self {
            ValueKind::Bool => parse_bool(raw).map(|b| b.to_string()),
            ValueKind::Int { min, max } => raw
                .parse::<i64>()
                .ok()
                .filter(|n| n >= min && n <= max)
                .map(|n| n.to_string()),
            ValueKind::Bytes => parse_bytes(raw).map(|_| raw.to_ascii_lowercase()),
            ValueKind::SizeOrOff if raw == "-1" => Some(raw.to_string()),
            ValueKind::SizeOrOff => parse_bytes(raw).map(|_| raw.to_ascii_lowercase()),
            ValueKind::Fraction => raw
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && *f > 0.0)
                .map(|_| raw.to_string()),
            ValueKind::Duration => parse_duration(raw).map(|_| raw.to_ascii_lowercase()),
            ValueKind::String => Some(raw.to_string()),
            ValueKind::Enum(words) => words
                .iter()
                .find(|w| w.eq_ignore_ascii_case(raw))
                .map(|w| w.to_string()),
            ValueKind::Master => crate::Master::parse(raw).ok().map(|m| m.to_string()),
        }
    }
}

pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Splits `"512 MB"` into `(512, "mb")`: leading digits, then the lower-cased unit.
fn number_and_unit(raw: &str) -> Option<(u64, String)> {
    let lower = raw.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(split);
    Some((digits.parse().ok()?, unit.trim().to_string()))
}

/// Parses Spark's size syntax: a number with an optional unit `b`, `k`/`kb`, `m`/`mb`,
/// `g`/`gb`, `t`/`tb` (binary multiples). A bare number is bytes.
pub fn parse_bytes(raw: &str) -> Option<u64> {
    let (number, unit) = number_and_unit(raw)?;
    let shift = match unit.as_str() {
        "" | "b" => 0,
        "k" | "kb" | "ki" | "kib" => 10,
        "m" | "mb" | "mi" | "mib" => 20,
        "g" | "gb" | "gi" | "gib" => 30,
        "t" | "tb" | "ti" | "tib" => 40,
        _ => return None,
    };
    number.checked_mul(1u64 << shift)
}

/// Parses Spark's duration syntax: a number with a unit `ms`, `s`, `m`/`min`, `h`, `d`.
/// A bare number is seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let (number, unit) = number_and_unit(raw)?;
    let millis_per_unit: u64 = match unit.as_str() {
        "ms" => 1,
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_multiples() {
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("4G"), Some(4 << 30));
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("2 gb"), Some(2 << 30));
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("-1g"), None);
        assert_eq!(parse_bytes("99999999999t"), None);
    }

    #[test]
    fn durations_default_to_seconds() {
        assert_eq!(parse_duration("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5min"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn ints_respect_bounds() {
        let kind = ValueKind::Int { min: 1, max: 10 };
        assert_eq!(kind.normalize(" 7 "), Some("7".into()));
        assert_eq!(kind.normalize("0"), None);
        assert_eq!(kind.normalize("seven"), None);
    }

    #[test]
    fn enums_are_case_insensitive_and_canonical() {
        let kind = ValueKind::Enum(&["text", "json"]);
        assert_eq!(kind.normalize("JSON"), Some("json".into()));
        assert_eq!(kind.normalize("xml"), None);
    }
}
