//! `LIKE … ESCAPE 'c'` with Spark's any escape character. DataFusion's LIKE kernels know only
//! the backslash, so [`spark_like_pattern`] rewrites a pattern written with another escape
//! character into the backslash form (the escape character's pairs become `\x`, a plain
//! backslash becomes `\\`); the analyzer rule calls it on patterns that are not constants.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish};

pub const NAME: &str = "spark_like_pattern";

static FUNCTION: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(LikePattern {
        signature: Signature::string(2, Volatility::Immutable),
    }))
});

/// `spark_like_pattern(pattern, escape)`, for the catalog and the analyzer rule.
pub fn udf() -> Arc<ScalarUDF> {
    FUNCTION.clone()
}

/// `pattern`, escaped with `escape`, in the backslash form DataFusion's LIKE reads.
pub fn backslash_pattern(pattern: &str, escape: char) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            match chars.next() {
                Some(escaped) => {
                    out.push('\\');
                    out.push(escaped);
                }
                None => {
                    return Err(format!(
                        "[INVALID_FORMAT.ESC_AT_THE_END] the pattern '{pattern}' ends with its escape character '{escape}'"
                    ));
                }
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LikePattern {
    signature: Signature,
}

impl ScalarUDFImpl for LikePattern {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let patterns = cast(&args.args[0].to_array(rows)?, &DataType::Utf8)?;
        let escapes = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let (patterns, escapes) = (patterns.as_string::<i32>(), escapes.as_string::<i32>());
        let mut out = StringBuilder::with_capacity(rows, rows * 8);
        for row in 0..rows {
            if patterns.is_null(row) || escapes.is_null(row) {
                out.append_null();
                continue;
            }
            let mut escape = escapes.value(row).chars();
            let (Some(c), None) = (escape.next(), escape.next()) else {
                return exec_err!(
                    "[INVALID_ESCAPE_CHAR] the escape character of LIKE is one character"
                );
            };
            match backslash_pattern(patterns.value(row), c) {
                Ok(pattern) => out.append_value(pattern),
                Err(message) => return exec_err!("{message}"),
            }
        }
        finish(Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_backslashes() {
        assert_eq!(
            backslash_pattern("/%SystemDrive/%//Users%", '/').unwrap(),
            r"\%SystemDrive\%\/Users%"
        );
        assert_eq!(backslash_pattern(r"a\b", '#').unwrap(), r"a\\b");
        assert!(backslash_pattern("abc/", '/').is_err());
    }
}
