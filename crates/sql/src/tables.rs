//! `--table name=path[:format]`: tables registered from files, directories and URLs.

use std::path::Path;

use crate::SqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
    Json,
}

impl TableFormat {
    pub fn parse(word: &str) -> Option<TableFormat> {
        match word.to_ascii_lowercase().as_str() {
            "parquet" => Some(TableFormat::Parquet),
            "csv" => Some(TableFormat::Csv),
            "json" | "ndjson" | "jsonl" => Some(TableFormat::Json),
            _ => None,
        }
    }

    /// The format a file name implies, if its extension says.
    fn from_extension(path: &str) -> Option<TableFormat> {
        let name = path.trim_end_matches('/').rsplit('/').next()?;
        let name = name
            .strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".zst"))
            .unwrap_or(name);
        let (_, ext) = name.rsplit_once('.')?;
        TableFormat::parse(ext)
    }
}

/// A table to register: its name, where its data is and how it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub name: String,
    pub location: String,
    pub format: TableFormat,
}

impl TableSpec {
    /// Parses `name=path` or `name=path:format`. Without a format the file extension decides;
    /// for a directory, the extension of the files in it; Parquet otherwise.
    pub fn parse(spec: &str) -> Result<TableSpec, SqlError> {
        let invalid = |reason: &str| SqlError::TableSpec {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| invalid("expected name=path or name=path:format"))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                "the table name must be letters, digits and underscores",
            ));
        }
        let (location, explicit) = match rest.rsplit_once(':') {
            Some((path, word)) if TableFormat::parse(word).is_some() => {
                (path, TableFormat::parse(word))
            }
            _ => (rest, None),
        };
        if location.is_empty() {
            return Err(invalid("the path is empty"));
        }
        let format = explicit
            .or_else(|| TableFormat::from_extension(location))
            .or_else(|| format_of_directory(Path::new(location)))
            .unwrap_or(TableFormat::Parquet);
        Ok(TableSpec {
            name: name.to_string(),
            location: location.to_string(),
            format,
        })
    }
}

fn format_of_directory(dir: &Path) -> Option<TableFormat> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| TableFormat::from_extension(&e.file_name().to_string_lossy()))
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_comes_from_suffix_then_extension() {
        let t = TableSpec::parse("t=data/x.csv").unwrap();
        assert_eq!(
            (t.name.as_str(), t.location.as_str(), t.format),
            ("t", "data/x.csv", TableFormat::Csv)
        );
        let t = TableSpec::parse("t=s3://bucket/key:json").unwrap();
        assert_eq!(
            (t.location.as_str(), t.format),
            ("s3://bucket/key", TableFormat::Json)
        );
        assert_eq!(
            TableSpec::parse("t=/no/such/dir").unwrap().format,
            TableFormat::Parquet
        );
        assert_eq!(
            TableSpec::parse("t=x.ndjson").unwrap().format,
            TableFormat::Json
        );
    }

    #[test]
    fn directory_format_comes_from_its_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("part-0.csv"), "a\n1\n").unwrap();
        let spec = TableSpec::parse(&format!("t={}", dir.path().display())).unwrap();
        assert_eq!(spec.format, TableFormat::Csv);
    }

    #[test]
    fn malformed_specs_are_refused() {
        assert!(
            TableSpec::parse("no-equals")
                .unwrap_err()
                .to_string()
                .contains("name=path")
        );
        assert!(TableSpec::parse("bad name=x").is_err());
        assert!(TableSpec::parse("t=").is_err());
    }
}
