//! Master URLs, spelt as in Spark.

use std::fmt;

/// Where an application's work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Master {
    /// `local[N]`: one process with N threads of execution.
    Local { threads: usize },
    /// `local[*]`: one process with as many threads as the machine has cores.
    LocalAllCores,
}

impl Master {
    pub fn parse(raw: &str) -> Result<Master, String> {
        let raw = raw.trim();
        if raw == "local" {
            return Ok(Master::Local { threads: 1 });
        }
        if let Some(inner) = raw.strip_prefix("local[").and_then(|r| r.strip_suffix(']')) {
            if inner == "*" {
                return Ok(Master::LocalAllCores);
            }
            return match inner.parse::<usize>() {
                Ok(n) if n > 0 => Ok(Master::Local { threads: n }),
                _ => Err(format!(
                    "`{raw}`: the thread count in local[N] must be a positive integer or *"
                )),
            };
        }
        Err(format!(
            "`{raw}` is not a master Ember supports; use local, local[N] or local[*]"
        ))
    }

    /// Threads of execution this master gives the local engine.
    pub fn threads(&self) -> usize {
        match self {
            Master::Local { threads } => *threads,
            Master::LocalAllCores => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

impl fmt::Display for Master {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Master::Local { threads } => write!(f, "local[{threads}]"),
            Master::LocalAllCores => f.write_str("local[*]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_spellings() {
        assert_eq!(Master::parse("local"), Ok(Master::Local { threads: 1 }));
        assert_eq!(Master::parse("local[4]"), Ok(Master::Local { threads: 4 }));
        assert_eq!(Master::parse("local[*]"), Ok(Master::LocalAllCores));
        assert!(Master::parse("local[0]").is_err());
        assert!(Master::parse("yarn").unwrap_err().contains("yarn"));
        assert!(Master::LocalAllCores.threads() >= 1);
    }
}
