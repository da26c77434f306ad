//! Spark's regular-expression string functions that DataFusion lacks: `split` (Java's
//! `String.split` with a limit, trailing empty strings kept as Spark keeps them),
//! `regexp_extract` (one group of the first match, `''` when nothing matches),
//! `regexp_extract_all` (that group of every match) and `regexp_substr` (the first match,
//! NULL when nothing matches).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListBuilder, StringArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

use crate::columnar::is_text;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(RegexFunction::new(RegexKind::Split))),
        Arc::new(ScalarUDF::from(RegexFunction::new(RegexKind::Extract))),
        Arc::new(ScalarUDF::from(RegexFunction::new(RegexKind::ExtractAll))),
        Arc::new(ScalarUDF::from(RegexFunction::new(RegexKind::Substr))),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum RegexKind {
    Split,
    Extract,
    ExtractAll,
    Substr,
}

impl RegexKind {
    fn name(self) -> &'static str {
        match self {
            RegexKind::Split => "split",
            RegexKind::Extract => "regexp_extract",
            RegexKind::ExtractAll => "regexp_extract_all",
            RegexKind::Substr => "regexp_substr",
        }
    }

    /// The optional third argument and its default: split's limit, extract's group index.
    fn default_third(self) -> i64 {
        match self {
            RegexKind::Split => -1,
            RegexKind::Extract | RegexKind::ExtractAll => 1,
            RegexKind::Substr => 0,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexFunction {
    kind: RegexKind,
    signature: Signature,
}

impl RegexFunction {
    fn new(kind: RegexKind) -> RegexFunction {
        RegexFunction {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RegexFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        if self.kind == RegexKind::Substr && arg_types.len() != 2 {
            return plan_err!(
                "`{name}` takes 2 arguments (a string and a regular expression), not {}",
                arg_types.len()
            );
        }
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err!(
                "`{name}` takes 2 or 3 arguments (a string, a regular expression and an optional integer), not {}",
                arg_types.len()
            );
        }
        if !is_text(&arg_types[0]) || !is_text(&arg_types[1]) {
            return plan_err!(
                "`{name}` takes a string and a regular expression as its first two arguments"
            );
        }
        let mut types = vec![DataType::Utf8, DataType::Utf8];
        if let Some(third) = arg_types.get(2) {
            if !(third.is_integer() || third == &DataType::Null) {
                return plan_err!("`{name}` takes an integer as its third argument, not {third}");
            }
            types.push(DataType::Int64);
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            RegexKind::Split | RegexKind::ExtractAll => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
            }
            RegexKind::Extract | RegexKind::Substr => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = crate::columnar::all_scalar(&args.args);
        let strings = as_utf8(&args.args[0], rows)?;
        let patterns = as_utf8(&args.args[1], rows)?;
        let thirds = match args.args.get(2) {
            Some(value) => {
                let array = cast(&value.to_array(rows)?, &DataType::Int64)?;
                array.as_primitive::<arrow::datatypes::Int64Type>().clone()
            }
            None => Int64Array::from(vec![self.kind.default_third(); rows]),
        };
        let mut compiled: Option<(String, Regex)> = None;
        let mut pattern_for = |text: &str| -> Result<Regex> {
            if let Some((source, regex)) = &compiled
                && source == text
            {
                return Ok(regex.clone());
            }
            let regex = Regex::new(text).map_err(|e| {
                datafusion::error::DataFusionError::Execution(format!(
                    "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter `regexp` in `{}` is invalid: '{text}': {e}",
                    self.kind.name()
                ))
            })?;
            compiled = Some((text.to_string(), regex.clone()));
            Ok(regex)
        };
        let result: ArrayRef = match self.kind {
            RegexKind::Split => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for row in 0..rows {
                    if strings.is_null(row) || patterns.is_null(row) || thirds.is_null(row) {
                        builder.append_null();
                        continue;
                    }
                    let regex = pattern_for(patterns.value(row))?;
                    for part in java_split(strings.value(row), &regex, thirds.value(row)) {
                        builder.values().append_value(part);
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
            RegexKind::Extract => {
                let mut builder = StringBuilder::new();
                for row in 0..rows {
                    if strings.is_null(row) || patterns.is_null(row) || thirds.is_null(row) {
                        builder.append_null();
                        continue;
                    }
                    let regex = pattern_for(patterns.value(row))?;
                    let group = group_index(self.kind, &regex, thirds.value(row))?;
                    let found = regex
                        .captures(strings.value(row))
                        .and_then(|c| c.get(group))
                        .map(|m| m.as_str())
                        .unwrap_or("");
                    builder.append_value(found);
                }
                Arc::new(builder.finish())
            }
            RegexKind::ExtractAll => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for row in 0..rows {
                    if strings.is_null(row) || patterns.is_null(row) || thirds.is_null(row) {
                        builder.append_null();
                        continue;
                    }
                    let regex = pattern_for(patterns.value(row))?;
                    let group = group_index(self.kind, &regex, thirds.value(row))?;
                    for captures in regex.captures_iter(strings.value(row)) {
                        builder
                            .values()
                            .append_value(captures.get(group).map_or("", |m| m.as_str()));
                    }
                    builder.append(true);
                }
                Arc::new(builder.finish())
            }
            RegexKind::Substr => {
                let mut builder = StringBuilder::new();
                for row in 0..rows {
                    if strings.is_null(row) || patterns.is_null(row) {
                        builder.append_null();
                        continue;
                    }
                    let regex = pattern_for(patterns.value(row))?;
                    builder.append_option(regex.find(strings.value(row)).map(|m| m.as_str()));
                }
                Arc::new(builder.finish())
            }
        };
        crate::columnar::finish(result, all_scalar)
    }
}

/// A group index in range for `regex`, or Spark's `REGEX_GROUP_INDEX` error.
fn group_index(kind: RegexKind, regex: &Regex, group: i64) -> Result<usize> {
    let groups = regex.captures_len() as i64 - 1;
    if group < 0 || group > groups {
        return exec_err!(
            "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter `idx` in `{}` is invalid: expects group index between 0 and {groups}, but got {group}.",
            kind.name()
        );
    }
    Ok(group as usize)
}

fn as_utf8(value: &ColumnarValue, rows: usize) -> Result<StringArray> {
    let array = cast(&value.to_array(rows)?, &DataType::Utf8)?;
    Ok(array.as_string::<i32>().clone())
}

/// Java's `String.split(regex, limit)`: a positive limit caps the number of parts (the last
/// takes the rest); otherwise every match splits. Spark passes -1 by default, which keeps
/// trailing empty strings. A zero-width match at the start makes no leading empty part.
fn java_split<'a>(text: &'a str, regex: &Regex, limit: i64) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for found in regex.find_iter(text) {
        if limit > 0 && parts.len() as i64 == limit - 1 {
            break;
        }
        if found.end() == 0 {
            continue;
        }
        if found.start() == found.end() && found.start() >= text.len() {
            break;
        }
        parts.push(&text[start..found.start()]);
        start = found.end();
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, pattern: &str, limit: i64) -> Vec<String> {
        let regex = Regex::new(pattern).unwrap();
        java_split(text, &regex, limit)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn split_follows_java_string_split() {
        assert_eq!(
            split("oneAtwoBthreeC", "[ABC]", -1),
            ["one", "two", "three", ""]
        );
        assert_eq!(split("oneAtwoBthreeC", "[ABC]", 2), ["one", "twoBthreeC"]);
        assert_eq!(split("oneAtwoBthreeC", "[ABC]", 1), ["oneAtwoBthreeC"]);
        assert_eq!(split("a,b,,", ",", 0), ["a", "b", "", ""]);
        assert_eq!(split("", ",", -1), [""]);
        // A zero-width pattern splits between characters without a leading empty part.
        assert_eq!(split("abc", "", -1), ["a", "b", "c"]);
    }
}
