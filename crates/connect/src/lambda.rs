//! Calls with lambda arguments (`transform(xs, lambda x: x * 2)`): PySpark sends the lambda's
//! body with its parameters as named variables. The value arguments are resolved first, so
//! the function can say what its lambdas' parameters are (the element type of the array, the
//! accumulator's type), and then each body is resolved with its parameters in scope.

use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::datatype::FieldExt;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::{HigherOrderFunction, Lambda, LambdaVariable};
use datafusion::logical_expr::type_coercion::functions::value_fields_with_higher_order_udf;
use datafusion::logical_expr::{Expr, ExprSchemable, LambdaParametersProgress, ValueOrLambda};
use spark_connect_proto::Expression;
use spark_connect_proto::expression::{ExprType, LambdaFunction};

use crate::error::{ConnectResult, SparkError};
use crate::expr::Scope;

/// Whether a call has a lambda among its arguments.
pub fn takes_lambdas(arguments: &[Expression]) -> bool {
    arguments
        .iter()
        .any(|a| matches!(a.expr_type, Some(ExprType::LambdaFunction(_))))
}

/// A lambda's parameter inside its body.
pub fn variable(scope: &Scope<'_>, name_parts: &[String]) -> ConnectResult<Expr> {
    let name = name_parts.join(".");
    match scope.lambda_variables.get(&name) {
        Some(field) => Ok(Expr::LambdaVariable(LambdaVariable::new(
            name,
            Some(field.clone()),
        ))),
        None => Err(SparkError::analysis(
            "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
            format!(
                "[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A lambda variable `{name}` is used \
                 outside the lambda that defines it."
            ),
        )),
    }
}

enum Argument<'a> {
    Value(Expr),
    Lambda(&'a LambdaFunction),
}

pub fn call(scope: &Scope<'_>, name: &str, arguments: &[Expression]) -> ConnectResult<Expr> {
    let lower = name.to_ascii_lowercase();
    let Ok(function) = scope.state.higher_order_function(&lower) else {
        return Err(SparkError::analysis(
            "UNRESOLVED_ROUTINE",
            format!(
                "[UNRESOLVED_ROUTINE] `{name}` does not take a lambda function: it is not a \
                 higher-order function Ember knows."
            ),
        )
        .with_parameter("routineName", format!("`{name}`")));
    };
    let arguments = arguments
        .iter()
        .map(|a| match &a.expr_type {
            Some(ExprType::LambdaFunction(l)) => Ok(Argument::Lambda(l)),
            _ => scope.expr(a).map(Argument::Value),
        })
        .collect::<ConnectResult<Vec<_>>>()?;
    let fields = arguments
        .iter()
        .map(|a| match a {
            Argument::Value(e) => Ok(ValueOrLambda::Value(e.to_field(scope.schema)?.1)),
            Argument::Lambda(_) => Ok(ValueOrLambda::Lambda(None)),
        })
        .collect::<ConnectResult<Vec<ValueOrLambda<FieldRef, Option<FieldRef>>>>>()?;
    let fields = value_fields_with_higher_order_udf(&fields, function.as_ref())?;
    // Ember's higher-order functions know every lambda's parameters from the value
    // arguments alone; a function that needs more steps is not one of the catalog's.
    let params = match function.lambda_parameters(0, &fields)? {
        LambdaParametersProgress::Complete(params) => params,
        LambdaParametersProgress::Partial(_) => {
            return Err(SparkError::unsupported(format!(
                "`{name}` with lambdas whose parameters depend on other lambdas"
            )));
        }
    };
    let mut params = params.into_iter();
    let mut args = Vec::with_capacity(arguments.len());
    for argument in arguments {
        match argument {
            Argument::Value(e) => args.push(e),
            Argument::Lambda(lambda) => {
                let Some(fields) = params.next() else {
                    return Err(SparkError::analysis(
                        "INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH",
                        format!("[INVALID_LAMBDA_FUNCTION_CALL] `{name}` takes fewer lambdas."),
                    ));
                };
                args.push(Expr::Lambda(body(scope, name, lambda, fields)?));
            }
        }
    }
    Ok(Expr::HigherOrderFunction(HigherOrderFunction::new(
        function, args,
    )))
}

fn body(
    scope: &Scope<'_>,
    function: &str,
    lambda: &LambdaFunction,
    fields: Vec<FieldRef>,
) -> ConnectResult<Lambda> {
    let names: Vec<String> = lambda
        .arguments
        .iter()
        .map(|v| v.name_parts.join("."))
        .collect();
    if names.len() > fields.len() {
        return Err(SparkError::analysis(
            "INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH",
            format!(
                "[INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH] The lambda of `{function}` \
                 takes at most {} argument(s), not {}.",
                fields.len(),
                names.len()
            ),
        ));
    }
    let mut variables = scope.lambda_variables.clone();
    for (name, field) in names.iter().zip(fields) {
        variables.insert(name.clone(), field.renamed(name.as_str()));
    }
    let inner = Scope {
        schema: scope.schema,
        state: scope.state,
        time_zone: scope.time_zone,
        plans: scope.plans,
        lambda_variables: variables,
    };
    let Some(function_body) = lambda.function.as_deref() else {
        return Err(SparkError::invalid_plan("a lambda function without a body"));
    };
    Ok(Lambda::new(names, inner.expr(function_body)?))
}
