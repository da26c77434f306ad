//! `contains`, `startswith` and `endswith` over strings or binaries, as Spark takes both:
//! strings run on DataFusion's kernels, binaries compare bytes. Other argument types are cast
//! to strings first, as Spark's implicit casts do.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish, is_binary};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Test {
    Contains,
    StartsWith,
    EndsWith,
}

impl Test {
    fn holds(self, text: &[u8], part: &[u8]) -> bool {
        match self {
            Test::Contains => part.is_empty() || text.windows(part.len()).any(|w| w == part),
            Test::StartsWith => text.starts_with(part),
            Test::EndsWith => text.ends_with(part),
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct StringPredicate {
    name: &'static str,
    aliases: Vec<String>,
    test: Test,
    /// DataFusion's function for two strings.
    strings: Arc<ScalarUDF>,
    signature: Signature,
}

impl ScalarUDFImpl for StringPredicate {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS] `{}` takes 2 arguments, not {}",
                self.name,
                arg_types.len()
            );
        }
        let common = if arg_types.iter().any(is_binary) {
            DataType::Binary
        } else {
            DataType::Utf8
        };
        Ok(vec![common.clone(), common])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let binary = args.args.iter().any(|a| is_binary(&a.data_type()));
        if !binary {
            return self.strings.invoke_with_args(args);
        }
        let scalar = all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [text, part] = arrays.as_slice() else {
            return plan_err!("`{}` takes 2 arguments", self.name);
        };
        let (text, part): (ArrayRef, ArrayRef) = (
            cast(text, &DataType::Binary)?,
            cast(part, &DataType::Binary)?,
        );
        let (text, part) = (text.as_binary::<i32>(), part.as_binary::<i32>());
        let result: BooleanArray = (0..text.len())
            .map(|i| {
                (text.is_valid(i) && part.is_valid(i))
                    .then(|| self.test.holds(text.value(i), part.value(i)))
            })
            .collect();
        finish(Arc::new(result), scalar)
    }
}

fn predicate(
    name: &'static str,
    aliases: &[&str],
    test: Test,
    strings: Arc<ScalarUDF>,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(StringPredicate {
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        test,
        strings,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    use datafusion::functions::string;
    vec![
        predicate("contains", &[], Test::Contains, string::contains()),
        predicate(
            "startswith",
            &["starts_with"],
            Test::StartsWith,
            string::starts_with(),
        ),
        predicate(
            "endswith",
            &["ends_with"],
            Test::EndsWith,
            string::ends_with(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::Test;

    #[test]
    fn byte_tests_follow_spark() {
        assert!(Test::Contains.holds(b"ABC", b"BC"));
        assert!(!Test::Contains.holds(b"BC", b"ABC"));
        assert!(Test::Contains.holds(b"ABC", b""));
        assert!(Test::StartsWith.holds(b"ABC", b"AB"));
        assert!(!Test::StartsWith.holds(b"ABC", b"BC"));
        assert!(Test::EndsWith.holds(b"ABC", b"BC"));
    }
}
