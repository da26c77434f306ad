//! Layered configuration values, validated against the registry.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Master;
use crate::registry::{ENGINE_PASSTHROUGH_PREFIX, KEYS, lookup};
use crate::value::{parse_bool, parse_bytes, parse_duration};

/// Where a value came from, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfSource {
    Default,
    PropertiesFile(PathBuf),
    Environment(String),
    CommandLine,
    Sql,
}

impl fmt::Display for ConfSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfSource::Default => f.write_str("default"),
            ConfSource::PropertiesFile(p) => write!(f, "properties file {}", p.display()),
            ConfSource::Environment(var) => write!(f, "environment variable {var}"),
            ConfSource::CommandLine => f.write_str("--conf"),
            ConfSource::Sql => f.write_str("SET"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfError {
    #[error("unknown setting `{key}` (from {source_name}){}; `ember conf` lists every setting", suggestion.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        source_name: String,
        suggestion: Option<String>,
    },
    #[error("invalid value {value} for `{key}` (from {source_name}): expected {expected}")]
    InvalidValue {
        key: String,
        /// Already quoted, or `<redacted>` for secrets.
        value: String,
        expected: String,
        source_name: String,
    },
    #[error("{}:{line}: {message}", path.display())]
    PropertiesFile {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read properties file {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
}

/// The environment variable that sets `key`: `EMBER_CONF_` followed by the key with dots
/// turned into underscores, e.g. `EMBER_CONF_spark_sql_shuffle_partitions`. The key's case is
/// kept so that the mapping is exact and reversible for every key.
pub fn env_var_for(key: &str) -> String {
    format!("EMBER_CONF_{}", key.replace('.', "_"))
}

#[derive(Debug, Clone)]
struct Entry {
    value: String,
    source: ConfSource,
}

/// A set of validated settings. Registry keys without an explicit value answer with their
/// default; `datafusion.*` keys are kept verbatim for the engine.
#[derive(Debug, Clone, Default)]
pub struct EmberConf {
    /// Registry keys by name; members of a key family (`spark.kubernetes.driver.label.*`) by
    /// the full key given.
    values: BTreeMap<String, Entry>,
    engine: BTreeMap<String, Entry>,
}

impl EmberConf {
    /// Only defaults.
    pub fn new() -> EmberConf {
        EmberConf::default()
    }

    /// Builds a configuration from every source, lowest precedence first: defaults, the
    /// properties file, the environment, then `--conf` pairs.
    pub fn layered<'a>(
        properties_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        command_line: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<EmberConf, ConfError> {
        let mut conf = EmberConf::new();
        if let Some(path) = properties_file {
            conf.load_properties_file(path)?;
        }
        conf.load_env(env)?;
        for (key, value) in command_line {
            conf.set(key, value, ConfSource::CommandLine)?;
        }
        Ok(conf)
    }

    /// Validates and stores one value, replacing any earlier one.
    pub fn set(&mut self, key: &str, value: &str, source: ConfSource) -> Result<(), ConfError> {
        let key = key.trim();
        if key.starts_with(ENGINE_PASSTHROUGH_PREFIX) {
            self.engine.insert(
                key.to_string(),
                Entry {
                    value: value.trim().to_string(),
                    source,
                },
            );
            return Ok(());
        }
        let Some(spec) = lookup(key) else {
            return Err(ConfError::UnknownKey {
                key: key.to_string(),
                source_name: source.to_string(),
                suggestion: closest_key(key).map(str::to_string),
            });
        };
        let Some(normalized) = spec.kind.normalize(value) else {
            return Err(ConfError::InvalidValue {
                key: key.to_string(),
                value: if spec.secret {
                    "<redacted>".into()
                } else {
                    format!("`{}`", value.trim())
                },
                expected: spec.kind.describe(),
                source_name: source.to_string(),
            });
        };
        let stored = if spec.is_family() {
            key.to_string()
        } else {
            spec.name.to_string()
        };
        self.values.insert(
            stored,
            Entry {
                value: normalized,
                source,
            },
        );
        Ok(())
    }

    /// Reads a Spark-style properties file: one `key value` or `key=value` per line, `#` or
    /// `!` starts a comment line.
    pub fn load_properties_file(&mut self, path: &Path) -> Result<(), ConfError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let split = line
                .find(|c: char| c == '=' || c == ':' || c.is_whitespace())
                .ok_or_else(|| ConfError::PropertiesFile {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: format!("`{line}` has a key but no value"),
                })?;
            let (key, rest) = line.split_at(split);
            let value = rest
                .trim_start()
                .strip_prefix(['=', ':'])
                .unwrap_or(rest)
                .trim();
            self.set(key, value, ConfSource::PropertiesFile(path.to_path_buf()))
                .map_err(|e| ConfError::PropertiesFile {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }

    /// Applies `EMBER_CONF_*` variables (see [`env_var_for`]); other variables are ignored.
    pub fn load_env(
        &mut self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfError> {
        for (var, value) in env {
            let Some(rest) = var.strip_prefix("EMBER_CONF_") else {
                continue;
            };
            let source = ConfSource::Environment(var.clone());
            match KEYS.iter().find(|k| env_var_for(k.name) == var) {
                Some(spec) => self.set(spec.name, &value, source)?,
                None if rest.starts_with("datafusion_") => {
                    // DataFusion's own keys are snake_case inside dotted sections, so only
                    // the section dots can be recovered unambiguously: use --conf for those.
                    return Err(ConfError::UnknownKey {
                        key: var.clone(),
                        source_name: source.to_string(),
                        suggestion: None,
                    });
                }
                None => {
                    return Err(ConfError::UnknownKey {
                        key: rest.replace('_', "."),
                        source_name: source.to_string(),
                        suggestion: closest_key(&rest.replace('_', ".")).map(str::to_string),
                    });
                }
            }
        }
        Ok(())
    }

    /// The value of a registry key (explicit or default), or `None` when it is unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(entry) => Some(entry.value.as_str()),
            None => lookup(key).and_then(|k| k.default),
        }
    }

    /// Every key set under `prefix` (a key family such as `spark.kubernetes.driver.label.`),
    /// as (the rest of the key, value), in key order.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(&str, &str)> {
        self.values
            .iter()
            .filter_map(|(k, e)| {
                k.strip_prefix(prefix)
                    .filter(|rest| !rest.is_empty())
                    .map(|rest| (rest, e.value.as_str()))
            })
            .collect()
    }

    /// Where the current value of `key` came from.
    pub fn source(&self, key: &str) -> ConfSource {
        self.values
            .get(key)
            .or_else(|| self.engine.get(key))
            .map(|e| e.source.clone())
            .unwrap_or(ConfSource::Default)
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(parse_bool)
    }

    pub fn get_usize(&self, key: &str) -> Option<usize> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    pub fn get_bytes(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(parse_bytes)
    }

    /// A size that may be turned off with `-1` (`None` then, or when unset).
    pub fn get_size_or_off(&self, key: &str) -> Option<u64> {
        self.get(key).filter(|v| *v != "-1").and_then(parse_bytes)
    }

    pub fn get_duration(&self, key: &str) -> Option<Duration> {
        self.get(key).and_then(parse_duration)
    }

    pub fn master(&self) -> Master {
        self.get("spark.master")
            .and_then(|m| Master::parse(m).ok())
            .unwrap_or(Master::LocalAllCores)
    }

    /// `datafusion.*` settings given by the user, for the engine to apply and validate.
    pub fn engine_options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.engine
            .iter()
            .map(|(k, e)| (k.as_str(), e.value.as_str()))
    }

    /// Every registry key with its current display value (secrets redacted) and source, in
    /// key order, followed by the engine pass-through keys that were set.
    pub fn display_entries(&self) -> Vec<(String, String, ConfSource)> {
        let mut rows = Vec::new();
        for k in KEYS {
            if k.is_family() {
                let prefix = k.family_prefix();
                for (rest, value) in self.with_prefix(prefix) {
                    let key = format!("{prefix}{rest}");
                    let source = self.source(&key);
                    rows.push((key, value.to_string(), source));
                }
                continue;
            }
            let shown = match (k.secret, self.get(k.name)) {
                (_, None) => "<unset>".to_string(),
                (true, Some(_)) => "<redacted>".to_string(),
                (false, Some(v)) => v.to_string(),
            };
            rows.push((k.name.to_string(), shown, self.source(k.name)));
        }
        rows.extend(
            self.engine
                .iter()
                .map(|(k, e)| (k.clone(), e.value.clone(), e.source.clone())),
        );
        rows
    }
}

/// The registry key nearest to a misspelt one, if any is close enough to be a likely typo.
fn closest_key(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KEYS.iter()
        .map(|k| (edit_distance(&lower, &k.name.to_ascii_lowercase()), k.name))
        .filter(|(d, _)| *d <= 3.max(key.len() / 6))
        .min()
        .map(|(_, name)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {

    #[test]
    fn key_families_keep_the_names_users_choose() {
        let mut conf = EmberConf::new();
        let cli = ConfSource::CommandLine;
        conf.set("spark.kubernetes.driver.label.team", "data", cli.clone())
            .unwrap();
        conf.set("spark.kubernetes.driver.label.Tier", "gold", cli.clone())
            .unwrap();
        conf.set("spark.kubernetes.node.selector.zone", "a", cli.clone())
            .unwrap();
        assert_eq!(
            conf.with_prefix("spark.kubernetes.driver.label."),
            vec![("Tier", "gold"), ("team", "data")]
        );
        assert_eq!(conf.get("spark.kubernetes.node.selector.zone"), Some("a"));
        // A family needs a name after its prefix, and a misspelt family is unknown.
        assert!(
            conf.set("spark.kubernetes.driver.label.", "x", cli.clone())
                .is_err()
        );
        assert!(
            conf.set("spark.kubernetes.driver.labels.x", "x", cli)
                .is_err()
        );
        let shown = conf.display_entries();
        assert!(
            shown
                .iter()
                .any(|(k, v, _)| k == "spark.kubernetes.driver.label.team" && v == "data")
        );
        assert!(!shown.iter().any(|(k, _, _)| k.ends_with(".*")));
    }

    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_answer_until_overridden() {
        let mut conf = EmberConf::new();
        assert_eq!(conf.get("spark.app.name"), Some("ember"));
        assert_eq!(conf.get("spark.sql.shuffle.partitions"), None);
        conf.set("spark.sql.shuffle.partitions", "8", ConfSource::Sql)
            .unwrap();
        assert_eq!(conf.get_usize("spark.sql.shuffle.partitions"), Some(8));
        assert_eq!(conf.source("spark.sql.shuffle.partitions"), ConfSource::Sql);
    }

    #[test]
    fn unknown_keys_are_errors_with_a_suggestion() {
        let err = EmberConf::new()
            .set("spark.sql.shufle.partitions", "8", ConfSource::CommandLine)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("unknown setting `spark.sql.shufle.partitions`"));
        assert!(message.contains("did you mean `spark.sql.shuffle.partitions`"));
        assert!(message.contains("--conf"));
    }

    #[test]
    fn bad_values_name_the_key_and_expected_type() {
        let err = EmberConf::new()
            .set(
                "spark.sql.shuffle.partitions",
                "many",
                ConfSource::CommandLine,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value `many` for `spark.sql.shuffle.partitions` (from --conf): expected an integer from 1 to 1048576"
        );
    }

    #[test]
    fn precedence_is_file_then_env_then_command_line() {
        let mut file = tempfile_in_target();
        writeln!(
            file.1,
            "# comment\nspark.app.name   from-file\nspark.log.level=INFO\nember.sql.batchSize 100"
        )
        .unwrap();
        let env = vec![
            (
                "EMBER_CONF_spark_log_level".to_string(),
                "debug".to_string(),
            ),
            (
                "EMBER_CONF_ember_sql_batchSize".to_string(),
                "200".to_string(),
            ),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let conf =
            EmberConf::layered(Some(&file.0), env, [("ember.sql.batchSize", "300")]).unwrap();
        assert_eq!(conf.get("spark.app.name"), Some("from-file"));
        assert_eq!(conf.get("spark.log.level"), Some("DEBUG"));
        assert_eq!(conf.get("ember.sql.batchSize"), Some("300"));
        assert_eq!(
            conf.source("spark.log.level"),
            ConfSource::Environment("EMBER_CONF_spark_log_level".into())
        );
        std::fs::remove_file(&file.0).unwrap();
    }

    #[test]
    fn properties_file_errors_name_file_and_line() {
        let mut file = tempfile_in_target();
        writeln!(file.1, "spark.app.name ok\nspark.nope 1").unwrap();
        let err = EmberConf::layered(Some(&file.0), vec![], []).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(":2: unknown setting `spark.nope`"),
            "{message}"
        );
        std::fs::remove_file(&file.0).unwrap();
    }

    #[test]
    fn unknown_environment_keys_are_errors() {
        let err = EmberConf::layered(
            None,
            vec![("EMBER_CONF_spark_nope".to_string(), "1".to_string())],
            [],
        )
        .unwrap_err();
        assert!(err.to_string().contains("spark.nope"));
    }

    #[test]
    fn engine_keys_pass_through() {
        let mut conf = EmberConf::new();
        conf.set(
            "datafusion.optimizer.max_passes",
            "2",
            ConfSource::CommandLine,
        )
        .unwrap();
        assert_eq!(
            conf.engine_options().collect::<Vec<_>>(),
            vec![("datafusion.optimizer.max_passes", "2")]
        );
    }

    fn tempfile_in_target() -> (PathBuf, std::fs::File) {
        let path = std::env::temp_dir().join(format!(
            "ember-conf-test-{}-{:?}.properties",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        (path, file)
    }
}
