//! Spark's `xpath` family: an XPath 1.0 expression (a constant) evaluated over each row's
//! XML text. `xpath` gives the node value of every node selected (NULL for elements, as
//! Java's DOM has it); `xpath_string`, `xpath_boolean` and the numeric forms convert the
//! result by XPath's own rules, the integer forms truncating as Java's casts do (NaN is 0).
//! Empty or NULL text gives NULL; text that is not XML fails the query.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float32Builder, Float64Builder, Int16Builder,
    Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use sxd_xpath::nodeset::Node;
use sxd_xpath::{Context, Factory, Value, XPath};

use crate::columnar::{all_scalar, finish};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Answer {
    /// Every selected node's value.
    Values,
    Text,
    Boolean,
    Double,
    Float,
    Int,
    Long,
    Short,
}

impl Answer {
    fn data_type(self) -> DataType {
        match self {
            Answer::Values => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            Answer::Text => DataType::Utf8,
            Answer::Boolean => DataType::Boolean,
            Answer::Double => DataType::Float64,
            Answer::Float => DataType::Float32,
            Answer::Int => DataType::Int32,
            Answer::Long => DataType::Int64,
            Answer::Short => DataType::Int16,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct XPathFunction {
    name: &'static str,
    aliases: Vec<String>,
    answer: Answer,
    signature: Signature,
}

/// The value Java's DOM gives a node: its text for text, attributes, comments and
/// processing instructions; none for elements and the document.
fn node_value(node: Node<'_>) -> Option<String> {
    match node {
        Node::Root(_) | Node::Element(_) => None,
        other => Some(other.string_value()),
    }
}

/// The results `answer` collects, one row at a time.
enum Results {
    Values(ListBuilder<StringBuilder>),
    Text(StringBuilder),
    Boolean(BooleanBuilder),
    Double(Float64Builder),
    Float(Float32Builder),
    Int(Int32Builder),
    Long(Int64Builder),
    Short(Int16Builder),
}

impl Results {
    fn new(answer: Answer, rows: usize) -> Self {
        match answer {
            Answer::Values => Results::Values(ListBuilder::new(StringBuilder::new())),
            Answer::Text => Results::Text(StringBuilder::with_capacity(rows, rows * 8)),
            Answer::Boolean => Results::Boolean(BooleanBuilder::with_capacity(rows)),
            Answer::Double => Results::Double(Float64Builder::with_capacity(rows)),
            Answer::Float => Results::Float(Float32Builder::with_capacity(rows)),
            Answer::Int => Results::Int(Int32Builder::with_capacity(rows)),
            Answer::Long => Results::Long(Int64Builder::with_capacity(rows)),
            Answer::Short => Results::Short(Int16Builder::with_capacity(rows)),
        }
    }

    fn append_null(&mut self) {
        match self {
            Results::Values(b) => b.append_null(),
            Results::Text(b) => b.append_null(),
            Results::Boolean(b) => b.append_null(),
            Results::Double(b) => b.append_null(),
            Results::Float(b) => b.append_null(),
            Results::Int(b) => b.append_null(),
            Results::Long(b) => b.append_null(),
            Results::Short(b) => b.append_null(),
        }
    }

    fn append(&mut self, value: &Value<'_>) {
        // Java's narrowing casts: NaN is 0, values past the range saturate.
        match self {
            Results::Values(b) => {
                if let Value::Nodeset(nodes) = value {
                    for node in nodes.document_order() {
                        b.values().append_option(node_value(node));
                    }
                }
                b.append(true);
            }
            Results::Text(b) => b.append_value(value.string()),
            Results::Boolean(b) => b.append_value(value.boolean()),
            Results::Double(b) => b.append_value(value.number()),
            Results::Float(b) => b.append_value(value.number() as f32),
            Results::Int(b) => b.append_value(value.number() as i32),
            Results::Long(b) => b.append_value(value.number() as i64),
            Results::Short(b) => b.append_value(value.number() as i32 as i16),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Results::Values(mut b) => Arc::new(b.finish()),
            Results::Text(mut b) => Arc::new(b.finish()),
            Results::Boolean(mut b) => Arc::new(b.finish()),
            Results::Double(mut b) => Arc::new(b.finish()),
            Results::Float(mut b) => Arc::new(b.finish()),
            Results::Int(mut b) => Arc::new(b.finish()),
            Results::Long(mut b) => Arc::new(b.finish()),
            Results::Short(mut b) => Arc::new(b.finish()),
        }
    }
}

fn compile(name: &str, path: &str) -> Result<Option<XPath>> {
    match Factory::new().build(path) {
        Ok(compiled) => Ok(compiled),
        Err(e) => plan_err!("[INVALID_XPATH] `{name}`: `{path}` is not an XPath expression: {e}"),
    }
}

impl ScalarUDFImpl for XPathFunction {
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
                "[WRONG_NUM_ARGS] `{}` takes XML text and a path, not {} arguments",
                self.name,
                arg_types.len()
            );
        }
        for t in arg_types {
            if !matches!(
                t,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
            ) {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes strings, not {t}",
                    self.name
                );
            }
        }
        Ok(vec![DataType::Utf8, DataType::Utf8])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.answer.data_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [xml, path] = args.args.as_slice() else {
            return exec_err!("`{}` takes XML text and a path", self.name);
        };
        let path = match path {
            ColumnarValue::Scalar(ScalarValue::Utf8(p) | ScalarValue::Utf8View(p)) => p.clone(),
            ColumnarValue::Scalar(ScalarValue::Null) => None,
            _ => {
                return exec_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `{}`'s path must be a constant string",
                    self.name
                );
            }
        };
        let scalar = all_scalar(&args.args);
        let xml = cast(&xml.to_array(args.number_rows)?, &DataType::Utf8)?;
        let xml = xml.as_string::<i32>();
        let mut results = Results::new(self.answer, xml.len());
        let compiled = match path.as_deref() {
            Some(p) if !p.is_empty() => compile(self.name, p)?,
            _ => None,
        };
        let context = Context::new();
        for row in 0..xml.len() {
            let text = if xml.is_valid(row) {
                xml.value(row)
            } else {
                ""
            };
            let Some(compiled) = compiled.as_ref().filter(|_| !text.is_empty()) else {
                results.append_null();
                continue;
            };
            let package = match sxd_document::parser::parse(text) {
                Ok(p) => p,
                Err(e) => {
                    return exec_err!(
                        "[INVALID_XML_DOCUMENT] `{}` cannot read the XML text at row {row}: {e}",
                        self.name
                    );
                }
            };
            let document = package.as_document();
            match compiled.evaluate(&context, document.root()) {
                Ok(value) => results.append(&value),
                Err(e) => {
                    return exec_err!("`{}` failed evaluating its path: {e}", self.name);
                }
            }
        }
        finish(results.finish(), scalar)
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        ("xpath", &[][..], Answer::Values),
        ("xpath_string", &[], Answer::Text),
        ("xpath_boolean", &[], Answer::Boolean),
        ("xpath_double", &["xpath_number"], Answer::Double),
        ("xpath_float", &[], Answer::Float),
        ("xpath_int", &[], Answer::Int),
        ("xpath_long", &[], Answer::Long),
        ("xpath_short", &[], Answer::Short),
    ]
    .into_iter()
    .map(|(name, aliases, answer)| {
        Arc::new(ScalarUDF::from(XPathFunction {
            name,
            aliases: aliases.iter().map(|a: &&str| a.to_string()).collect(),
            answer,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}
