//! Spark's generators in a select list (`explode`, `explode_outer`, `posexplode`,
//! `posexplode_outer`, `inline`, `inline_outer`), planned as DataFusion unnests with Spark's
//! column names, a row of nulls for an empty array in the outer forms, and `int` positions. A
//! map explodes into `key` and `value` columns: its entries are unnested as structs, then
//! split; `inline` splits each unnested struct into its fields the same way.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, UnnestOptions};
use datafusion::dataframe::DataFrame;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::functions_nested::expr_fn::{cardinality, map_entries, range};
use datafusion::logical_expr::{Case, Cast, Expr};
use datafusion::prelude::lit;
use spark_connect_proto::Expression;
use spark_connect_proto::expression::ExprType;

use crate::error::{ConnectResult, SparkError};
use crate::expr::Scope;

/// One generator call, possibly aliased (`.alias("pos", "value")` names both columns).
pub struct Generator<'a> {
    input: &'a Expression,
    names: Vec<String>,
    outer: bool,
    with_position: bool,
    /// `inline`: the array's structs become one column per field.
    fields: bool,
}

impl Generator<'_> {
    pub fn of(e: &Expression) -> Option<Generator<'_>> {
        let (inner, names) = match &e.expr_type {
            Some(ExprType::Alias(a)) => (a.expr.as_deref()?, a.name.clone()),
            _ => (e, Vec::new()),
        };
        let Some(ExprType::UnresolvedFunction(f)) = &inner.expr_type else {
            return None;
        };
        if f.arguments.len() != 1 {
            return None;
        }
        let (outer, with_position, fields) = match f.function_name.as_str() {
            "explode" => (false, false, false),
            "explode_outer" => (true, false, false),
            "posexplode" => (false, true, false),
            "posexplode_outer" => (true, true, false),
            "inline" => (false, false, true),
            "inline_outer" => (true, false, true),
            _ => return None,
        };
        Some(Generator {
            input: &f.arguments[0],
            names,
            outer,
            with_position,
            fields,
        })
    }
}

/// The generators of one select list: the columns to unnest after the projection.
#[derive(Default)]
pub struct Generators {
    /// Unnested columns, with whether their generator is an outer one.
    columns: Vec<(String, bool)>,
    /// Position columns, cast to `int` after the unnest.
    positions: Vec<String>,
    /// Unnested map entries (structs) and the names of their key and value columns.
    entries: Vec<(String, [String; 2])>,
    /// Unnested structs of `inline`: their fields and the names of their columns.
    structs: Vec<(String, Vec<(String, String)>)>,
}

impl Generators {
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Adds the generator's input (and for posexplode its positions) to the projection.
    pub fn add(
        &mut self,
        scope: &Scope<'_>,
        generator: Generator<'_>,
        projection: &mut Vec<Expr>,
    ) -> ConnectResult<()> {
        let mut value = scope.expr(generator.input)?;
        let is_map = matches!(scope.type_of(&value), Ok(DataType::Map(_, _)));
        if is_map {
            value = map_entries(value);
        }
        if generator.outer {
            // Spark's outer generators give one row of nulls for an empty array too;
            // DataFusion's unnest keeps only null ones.
            let has_items = cardinality(value.clone()).gt(lit(0u64));
            value = Expr::Case(Case::new(
                None,
                vec![(Box::new(has_items), Box::new(value))],
                None,
            ));
        }
        let name_at = |i: usize, default: &str| {
            generator
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| default.to_string())
        };
        if generator.with_position {
            // The positions as a list beside the values, unnested with them row by row.
            let length = Expr::Cast(Cast::new(
                Box::new(cardinality(value.clone())),
                DataType::Int64,
            ));
            let pos = name_at(0, "pos");
            projection.push(range(lit(0i64), length, lit(1i64)).alias(&pos));
            self.columns.push((pos.clone(), generator.outer));
            self.positions.push(pos);
        }
        let first = usize::from(generator.with_position);
        if generator.fields {
            let fields = match scope.type_of(&value) {
                Ok(DataType::List(element)) => match element.data_type() {
                    DataType::Struct(fields) => fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| (f.name().clone(), name_at(i, f.name())))
                        .collect(),
                    other => {
                        return Err(SparkError::analysis(
                            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                            format!("`inline` takes an array of structs, not an array of {other}"),
                        ));
                    }
                },
                _ => {
                    return Err(SparkError::analysis(
                        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                        "`inline` takes an array of structs",
                    ));
                }
            };
            let structs = format!("__ember_inline_{}", self.structs.len());
            projection.push(value.alias(&structs));
            self.columns.push((structs.clone(), generator.outer));
            self.structs.push((structs, fields));
            return Ok(());
        }
        if is_map {
            let entries = format!("__ember_entries_{}", self.entries.len());
            projection.push(value.alias(&entries));
            self.columns.push((entries.clone(), generator.outer));
            self.entries.push((
                entries,
                [name_at(first, "key"), name_at(first + 1, "value")],
            ));
            return Ok(());
        }
        let name = name_at(first, "col");
        projection.push(value.alias(&name));
        self.columns.push((name, generator.outer));
        Ok(())
    }

    /// Unnests the projected generator columns.
    pub fn unnest(self, frame: DataFrame) -> ConnectResult<DataFrame> {
        if self.columns.is_empty() {
            return Ok(frame);
        }
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        let preserve_nulls = self.columns.iter().any(|(_, outer)| *outer);
        let frame = frame.unnest_columns_with_options(
            &names,
            UnnestOptions::new().with_preserve_nulls(preserve_nulls),
        )?;
        if self.positions.is_empty() && self.entries.is_empty() && self.structs.is_empty() {
            return Ok(frame);
        }
        // Spark's positions are ints; map entries become their key and value columns.
        let mut columns = Vec::new();
        for (qualifier, field) in frame.schema().iter() {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            if self.positions.contains(field.name()) {
                columns.push(
                    Expr::Cast(Cast::new(Box::new(column), DataType::Int32)).alias(field.name()),
                );
            } else if let Some((_, [key, value])) =
                self.entries.iter().find(|(n, _)| n == field.name())
            {
                columns.push(get_field(column.clone(), "key").alias(key));
                columns.push(get_field(column, "value").alias(value));
            } else if let Some((_, fields)) = self.structs.iter().find(|(n, _)| n == field.name()) {
                for (field, name) in fields {
                    columns.push(get_field(column.clone(), field.as_str()).alias(name));
                }
            } else {
                columns.push(column);
            }
        }
        Ok(frame.select(crate::naming::with_unique_names(columns))?)
    }
}
