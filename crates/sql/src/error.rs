//! Errors written for the person at the terminal.

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("{0}")]
    Query(String),
    #[error("path not found: {}", .0.display())]
    PathNotFound(PathBuf),
    #[error("{0}")]
    Config(#[from] ember_config::ConfError),
    #[error("invalid --table `{spec}`: {reason}")]
    TableSpec { spec: String, reason: String },
    #[error("cannot write {}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    #[error("{0}")]
    Unsupported(String),
}

impl From<DataFusionError> for SqlError {
    fn from(err: DataFusionError) -> SqlError {
        // The innermost error says what went wrong; the wrappers only say where.
        let root = err.find_root();
        match root {
            DataFusionError::SQL(parse, _) => SqlError::Syntax(match parse.as_ref() {
                ParserError::TokenizerError(m) | ParserError::ParserError(m) => m.clone(),
                ParserError::RecursionLimitExceeded => {
                    "the statement is nested too deeply to parse".into()
                }
            }),
            DataFusionError::ArrowError(arrow, _) => SqlError::Query(arrow.to_string()),
            DataFusionError::ResourcesExhausted(message) => SqlError::Query(format!(
                "out of memory: {message}. Raise ember.sql.memoryLimit, or lower spark.sql.shuffle.partitions so each partition gets more"
            )),
            other => SqlError::Query(clean_message(&other.strip_backtrace())),
        }
    }
}

impl From<datafusion::arrow::error::ArrowError> for SqlError {
    fn from(err: datafusion::arrow::error::ArrowError) -> SqlError {
        SqlError::from(DataFusionError::from(err))
    }
}

impl From<datafusion::parquet::errors::ParquetError> for SqlError {
    fn from(err: datafusion::parquet::errors::ParquetError) -> SqlError {
        SqlError::from(DataFusionError::from(err))
    }
}

/// DataFusion prefixes messages with its error category ("Error during planning: …"), which
/// tells a user nothing they can act on.
fn clean_message(message: &str) -> String {
    const PREFIXES: &[&str] = &[
        "Error during planning: ",
        "Schema error: ",
        "Execution error: ",
        "This feature is not implemented: ",
        "Invalid or Unsupported Configuration: ",
    ];
    let mut text = message.trim();
    for prefix in PREFIXES {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest;
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planning_prefix_is_dropped() {
        let err = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(SqlError::from(err).to_string(), "table 'x' not found");
    }

    #[test]
    fn parser_errors_become_syntax_errors() {
        let err = DataFusionError::SQL(
            Box::new(ParserError::ParserError(
                "Expected: an expression, found: EOF".into(),
            )),
            None,
        );
        assert_eq!(
            SqlError::from(err).to_string(),
            "syntax error: Expected: an expression, found: EOF"
        );
    }
}
