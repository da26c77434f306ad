//! `spark.sql(text, args)`: Spark's parameter markers (`:name`, `?`) become DataFusion's
//! placeholders (`$name`, `$1`), bound to the arguments' values.

use std::collections::HashMap;

use datafusion::common::ParamValues;
use datafusion::logical_expr::Expr;
use datafusion::scalar::ScalarValue;
use spark_connect_proto::Sql;

use crate::error::{ConnectResult, SparkError};
use crate::literal;
use crate::relation::Planner;

pub fn bind(planner: &Planner, sql: &Sql) -> ConnectResult<(String, Option<ParamValues>)> {
    let schema = datafusion::common::DFSchema::empty();
    let scope = crate::expr::Scope {
        schema: &schema,
        state: &planner.state,
        time_zone: &planner.time_zone,
        plans: &planner.plans,
        lambda_variables: Default::default(),
    };
    let constant = |e: Expr, name: &str| match e {
        Expr::Literal(value, _) => Ok(value),
        other => Err(SparkError::analysis(
            "INVALID_SQL_ARG",
            format!(
                "[INVALID_SQL_ARG] The argument {name} of `sql()` is invalid: {other} is not a literal."
            ),
        )),
    };
    let mut named: HashMap<String, ScalarValue> = HashMap::new();
    for (name, e) in &sql.named_arguments {
        named.insert(name.clone(), constant(scope.expr(e)?, name)?);
    }
    #[allow(deprecated)]
    for (name, l) in &sql.args {
        named.insert(name.clone(), literal::to_scalar(l, &planner.time_zone)?);
    }
    let mut positional: Vec<ScalarValue> = Vec::new();
    for (i, e) in sql.pos_arguments.iter().enumerate() {
        positional.push(constant(scope.expr(e)?, &format!("#{}", i + 1))?);
    }
    #[allow(deprecated)]
    for l in &sql.pos_args {
        positional.push(literal::to_scalar(l, &planner.time_zone)?);
    }
    if named.is_empty() && positional.is_empty() {
        return Ok((sql.query.clone(), None));
    }
    if !named.is_empty() && !positional.is_empty() {
        return Err(SparkError::analysis(
            "INVALID_QUERY_MIXED_QUERY_PARAMETERS",
            "[INVALID_QUERY_MIXED_QUERY_PARAMETERS] Parameterized query must either use positional, or named parameters, but not both.",
        ));
    }
    let text = rewrite_markers(&sql.query);
    let values = if positional.is_empty() {
        ParamValues::from(named.into_iter().collect::<HashMap<_, _>>())
    } else {
        ParamValues::from(positional)
    };
    Ok((text, Some(values)))
}

/// Rewrites `:name` to `$name` and the n-th `?` to `$n`, outside quotes and comments.
pub fn rewrite_markers(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let chars: Vec<char> = query.chars().collect();
    let mut i = 0;
    let mut position = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == c {
                        break;
                    }
                    i += 1;
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            ':' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphabetic() || *n == '_')
                && chars.get(i.wrapping_sub(1)) != Some(&':') =>
            {
                out.push('$');
            }
            '?' => {
                position += 1;
                out.push_str(&format!("${position}"));
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rewrite_markers;

    #[test]
    fn markers_outside_strings_become_placeholders() {
        assert_eq!(
            rewrite_markers("select * from t where a = :x and b = ':y' -- :z\n and c::int = ?"),
            "select * from t where a = $x and b = ':y' -- :z\n and c::int = $1"
        );
    }
}
