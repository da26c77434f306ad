//! Names for `selectExpr("age * 2")` and `expr("…")` columns: Spark names them from the
//! parsed expression, not the text (`(age * 2)`), so the text is parsed with the Spark SQL
//! dialect and turned into the Connect expression it stands for, which `naming` names like
//! any other. Forms it does not know keep the text as written.

use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use datafusion::sql::sqlparser::parser::Parser;
use spark_connect_proto::Expression;
use spark_connect_proto::expression::literal::LiteralType;
use spark_connect_proto::expression::{
    ExprType, Literal, UnresolvedAttribute, UnresolvedFunction, UnresolvedStar,
};

/// The Connect expression SQL `text` stands for, when every part of it has a Connect form.
pub fn parsed(text: &str) -> Option<Expression> {
    let dialect = dialect_from_str("spark")?;
    let expr = Parser::new(dialect.as_ref())
        .try_with_sql(text)
        .ok()?
        .parse_expr()
        .ok()?;
    convert(&expr)
}

fn expression(kind: ExprType) -> Expression {
    Expression {
        expr_type: Some(kind),
        ..Default::default()
    }
}

fn call(name: &str, arguments: Vec<Expression>, is_distinct: bool) -> Expression {
    expression(ExprType::UnresolvedFunction(UnresolvedFunction {
        function_name: name.to_string(),
        arguments,
        is_distinct,
        ..Default::default()
    }))
}

fn literal(kind: LiteralType) -> Expression {
    expression(ExprType::Literal(Literal {
        literal_type: Some(kind),
        ..Default::default()
    }))
}

fn convert(e: &ast::Expr) -> Option<Expression> {
    Some(match e {
        ast::Expr::Identifier(ident) => attribute(&ident.value),
        ast::Expr::CompoundIdentifier(parts) => attribute(
            &parts
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
        ),
        ast::Expr::Nested(inner) => convert(inner)?,
        ast::Expr::Value(value) => match &value.value {
            Value::Number(n, _) => match n.parse::<i32>() {
                Ok(i) => literal(LiteralType::Integer(i)),
                Err(_) => return None,
            },
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => {
                literal(LiteralType::String(s.clone()))
            }
            Value::Boolean(b) => literal(LiteralType::Boolean(*b)),
            _ => return None,
        },
        ast::Expr::BinaryOp { left, op, right } => {
            let name = match op {
                BinaryOperator::Plus => "+",
                BinaryOperator::Minus => "-",
                BinaryOperator::Multiply => "*",
                BinaryOperator::Divide => "/",
                BinaryOperator::Modulo => "%",
                BinaryOperator::Eq => "==",
                BinaryOperator::NotEq => "!=",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                BinaryOperator::And => "and",
                BinaryOperator::Or => "or",
                _ => return None,
            };
            call(name, vec![convert(left)?, convert(right)?], false)
        }
        ast::Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => call("not", vec![convert(expr)?], false),
        ast::Expr::Function(function) => {
            let name = function.name.to_string().to_ascii_lowercase();
            let FunctionArguments::List(list) = &function.args else {
                return match &function.args {
                    FunctionArguments::None => Some(call(&name, Vec::new(), false)),
                    _ => None,
                };
            };
            if function.over.is_some() || function.filter.is_some() {
                return None;
            }
            let distinct = matches!(
                list.duplicate_treatment,
                Some(ast::DuplicateTreatment::Distinct)
            );
            let arguments = list
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => convert(e),
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Some(expression(
                        ExprType::UnresolvedStar(UnresolvedStar::default()),
                    )),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            call(&name, arguments, distinct)
        }
        _ => return None,
    })
}

fn attribute(name: &str) -> Expression {
    expression(ExprType::UnresolvedAttribute(UnresolvedAttribute {
        unparsed_identifier: name.to_string(),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming::spark_name;

    fn name(text: &str) -> String {
        parsed(text).map_or_else(|| text.to_string(), |e| spark_name(&e))
    }

    #[test]
    fn sql_text_is_named_like_the_expression_it_parses_to() {
        assert_eq!(name("age * 2"), "(age * 2)");
        assert_eq!(name("abs(age)"), "abs(age)");
        assert_eq!(name("(a + 1) > b AND NOT c"), "(((a + 1) > b) AND (NOT c))");
        assert_eq!(name("count(*)"), "count(1)");
        assert_eq!(name("COUNT(DISTINCT name)"), "count(DISTINCT name)");
        assert_eq!(name("ACOS(x)"), "ACOS(x)");
        // Forms without a Connect counterpart keep their text.
        assert_eq!(name("x BETWEEN 1 AND 2"), "x BETWEEN 1 AND 2");
    }
}
