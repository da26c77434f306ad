//! The column types of a `VALUES` table, as Spark widens them. DataFusion types each column
//! with its union rules when it plans the table: a decimal beside a double becomes a
//! decimal (`VALUES (0.0), (PI())` is DECIMAL(30,15), and NaN fails to cast), and every
//! integer literal is a BIGINT. Spark widens to the type that holds every row: a decimal
//! beside a float or double is a DOUBLE, integers keep the narrowest integer type, and
//! decimals widen to hold both integer digits and scale.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Values};

/// A `VALUES` node retyped by Spark's rules, or the node as it was when they agree.
pub(crate) fn spark_values_types(values: Values) -> Result<Transformed<LogicalPlan>> {
    let empty = DFSchema::empty();
    // Each element as written: the planner wrapped it in a cast to its union type, and
    // turned a NULL into a NULL of that type.
    let rows: Vec<Vec<Expr>> = values
        .values
        .iter()
        .map(|row| row.iter().map(as_written).collect())
        .collect();
    let columns = values.schema.fields().len();
    let mut types = Vec::with_capacity(columns);
    for j in 0..columns {
        let mut wide = DataType::Null;
        for row in &rows {
            let t = row[j].get_type(&empty)?;
            match wider(&wide, &t) {
                Some(w) => wide = w,
                // Types Spark's rules here do not cover keep DataFusion's choice.
                None => {
                    wide = values.schema.field(j).data_type().clone();
                    break;
                }
            }
        }
        types.push(wide);
    }
    let unchanged = types
        .iter()
        .zip(values.schema.fields())
        .all(|(t, f)| t == f.data_type());
    if unchanged {
        return Ok(Transformed::no(LogicalPlan::Values(values)));
    }
    let rows = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&types)
                .map(|(e, t)| typed(e, t, &empty))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Transformed::yes(LogicalPlanBuilder::values(rows)?.build()?))
}

fn as_written(e: &Expr) -> Expr {
    match e {
        Expr::Cast(cast) => as_written(&cast.expr),
        Expr::Literal(v, metadata) if v.is_null() => {
            Expr::Literal(ScalarValue::Null, metadata.clone())
        }
        Expr::Literal(ScalarValue::Int64(Some(v)), metadata) => match i32::try_from(*v) {
            Ok(narrow) => Expr::Literal(ScalarValue::Int32(Some(narrow)), metadata.clone()),
            Err(_) => e.clone(),
        },
        other => other.clone(),
    }
}

fn typed(e: Expr, t: &DataType, schema: &DFSchema) -> Result<Expr> {
    match e {
        Expr::Literal(ScalarValue::Null, metadata) => {
            Ok(Expr::Literal(ScalarValue::try_from(t)?, metadata))
        }
        e => e.cast_to(t, schema),
    }
}

/// The type Spark widens two column types to, where these rules decide it.
fn wider(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Null, t) | (t, Null) => Some(t.clone()),
        (Float64, t) | (t, Float64) if t.is_numeric() => Some(Float64),
        (Float32, Decimal128(..)) | (Decimal128(..), Float32) => Some(Float64),
        (Float32, t) | (t, Float32) if t.is_integer() => Some(Float32),
        (Decimal128(p1, s1), Decimal128(p2, s2)) => Some(wider_decimal(*p1, *s1, *p2, *s2)),
        (Decimal128(p, s), t) | (t, Decimal128(p, s)) if t.is_integer() => {
            let (digits, _) = integer_as_decimal(t)?;
            Some(wider_decimal(*p, *s, digits, 0))
        }
        (x, y) if x.is_integer() && y.is_integer() => {
            let (dx, _) = integer_as_decimal(x)?;
            let (dy, _) = integer_as_decimal(y)?;
            Some(if dx >= dy { x.clone() } else { y.clone() })
        }
        _ => None,
    }
}

/// The decimal an integer type fits in, as Spark converts it: BYTE 3 digits, SHORT 5, INT
/// 10, BIGINT 20.
fn integer_as_decimal(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Int8 => Some((3, 0)),
        DataType::Int16 => Some((5, 0)),
        DataType::Int32 => Some((10, 0)),
        DataType::Int64 => Some((20, 0)),
        _ => None,
    }
}

/// Spark's wider decimal: the larger integer part and the larger scale, bounded by 38 digits.
fn wider_decimal(p1: u8, s1: i8, p2: u8, s2: i8) -> DataType {
    let scale = s1.max(s2);
    let integer = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
    let precision = (integer + scale as i16).min(38) as u8;
    DataType::Decimal128(precision, scale.min(precision as i8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataType::*;

    #[test]
    fn widens_as_spark() {
        assert_eq!(wider(&Decimal128(2, 1), &Float64), Some(Float64));
        assert_eq!(wider(&Float32, &Decimal128(2, 1)), Some(Float64));
        assert_eq!(wider(&Int32, &Int64), Some(Int64));
        assert_eq!(wider(&Null, &Int32), Some(Int32));
        assert_eq!(wider(&Int32, &Decimal128(3, 2)), Some(Decimal128(12, 2)));
        assert_eq!(
            wider(&Decimal128(5, 1), &Decimal128(4, 3)),
            Some(Decimal128(7, 3))
        );
        assert_eq!(
            wider(&Decimal128(38, 0), &Decimal128(38, 10)),
            Some(Decimal128(38, 10))
        );
        assert_eq!(wider(&Int32, &Utf8), None);
    }

    #[test]
    fn a_decimal_beside_a_double_makes_a_double_column() -> Result<()> {
        let plan = LogicalPlanBuilder::values(vec![
            vec![Expr::Literal(ScalarValue::Decimal128(Some(0), 2, 1), None)],
            vec![Expr::Literal(ScalarValue::Float64(Some(f64::NAN)), None)],
            vec![Expr::Literal(ScalarValue::Null, None)],
        ])?
        .build()?;
        let LogicalPlan::Values(values) = plan else {
            unreachable!("the builder makes a VALUES node")
        };
        assert_eq!(values.schema.field(0).data_type(), &Decimal128(30, 15));
        let retyped = spark_values_types(values)?;
        assert!(retyped.transformed);
        assert_eq!(retyped.data.schema().field(0).data_type(), &Float64);
        Ok(())
    }

    #[test]
    fn integer_literals_stay_int() -> Result<()> {
        let plan = LogicalPlanBuilder::values(vec![
            vec![Expr::Literal(ScalarValue::Int64(Some(1)), None)],
            vec![Expr::Literal(ScalarValue::Int64(Some(2)), None)],
        ])?
        .build()?;
        let LogicalPlan::Values(values) = plan else {
            unreachable!("the builder makes a VALUES node")
        };
        let retyped = spark_values_types(values)?;
        assert_eq!(retyped.data.schema().field(0).data_type(), &Int32);
        Ok(())
    }
}
