//! Spark SQL statements that sqlparser's Spark dialect parses but DataFusion does not plan:
//! `a RLIKE b`, `a DIV b` and `~a` become the catalog's `regexp_like`, `div` and `bitwise_not`, `map(k, v, …)` the
//! catalog's Spark `map`, and
//! `CREATE TABLE … USING format` becomes a managed table, a directory under
//! `spark.sql.warehouse.dir` that `INSERT` appends to and `DROP TABLE` deletes.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::listing::ListingTable;
use datafusion::prelude::SessionContext;

use datafusion::sql::parser::{CopyToSource, CopyToStatement, CreateExternalTable, Statement};
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, CreateTable, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, HiveDistributionStyle, HiveIOFormat, Ident,
    ObjectName, ObjectNamePart, UnaryOperator, Value, VisitMut, VisitorMut,
};

use crate::error::SqlError;

/// Rewrites the expressions DataFusion has no plan for into calls of catalog functions.
pub fn rewrite_expressions(statement: &mut ast::Statement) {
    let _ = statement.visit(&mut SparkExpressions);
}

/// [`rewrite_expressions`] for a parsed statement of any kind, for front ends that plan SQL
/// queries themselves (Spark Connect's `spark.sql`).
pub fn rewrite_spark_sql(statement: &mut Statement) {
    match statement {
        Statement::Statement(ast) => rewrite_expressions(ast),
        Statement::Explain(explain) => rewrite_spark_sql(&mut explain.statement),
        _ => {}
    }
}

struct SparkExpressions;

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// Spark's `range(…)` table: one `id` column (DataFusion's `range` names it `value`), under
/// any capitalisation of the name.
fn spark_range(factor: &ast::TableFactor) -> Option<ast::TableFactor> {
    let ast::TableFactor::Table {
        name, args, alias, ..
    } = factor
    else {
        return None;
    };
    if args.is_none() || !name.to_string().eq_ignore_ascii_case("range") {
        return None;
    }
    let template = "SELECT value AS id FROM range(0)";
    let dialect = datafusion::sql::sqlparser::dialect::SparkSqlDialect {};
    let parsed = datafusion::sql::sqlparser::parser::Parser::parse_sql(&dialect, template).ok()?;
    let Some(ast::Statement::Query(mut query)) = parsed.into_iter().next() else {
        return None;
    };
    let ast::SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let mut inner = factor.clone();
    if let ast::TableFactor::Table { name, alias: a, .. } = &mut inner {
        *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new("range"))]);
        *a = None;
    }
    select.from.first_mut()?.relation = inner;
    Some(ast::TableFactor::Derived {
        lateral: false,
        subquery: query,
        alias: Some(alias.clone().unwrap_or_else(|| ast::TableAlias {
            explicit: false,
            name: Ident::new("range"),
            columns: vec![],
            at: None,
        })),
        sample: None,
    })
}

impl VisitorMut for SparkExpressions {
    type Break = ();

    fn post_visit_table_factor(
        &mut self,
        factor: &mut ast::TableFactor,
    ) -> ControlFlow<Self::Break> {
        if let Some(range) = spark_range(factor) {
            *factor = range;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        if let Expr::Cast { data_type, .. }
        | Expr::TypedString(ast::TypedString { data_type, .. }) = expr
        {
            spark_timestamp_type(data_type);
        }
        let rewritten = match expr {
            Expr::RLike {
                negated,
                expr: subject,
                pattern,
                ..
            } => {
                let like = call(
                    "regexp_like",
                    vec![(**subject).clone(), (**pattern).clone()],
                );
                Some(if *negated {
                    Expr::UnaryOp {
                        op: UnaryOperator::Not,
                        expr: Box::new(Expr::Nested(Box::new(like))),
                    }
                } else {
                    like
                })
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::MyIntegerDivide,
                right,
            } => Some(call("div", vec![(**left).clone(), (**right).clone()])),
            Expr::UnaryOp {
                op: UnaryOperator::BitwiseNot,
                expr: operand,
            } => Some(call("bitwise_not", vec![(**operand).clone()])),
            // `ceil(x, scale)` / `floor(x, scale)`: the catalog's scaled rounding.
            Expr::Ceil {
                expr: value,
                field: ast::CeilFloorKind::Scale(scale),
            } => Some(call(
                "ceil",
                vec![(**value).clone(), Expr::Value(scale.clone())],
            )),
            Expr::Floor {
                expr: value,
                field: ast::CeilFloorKind::Scale(scale),
            } => Some(call(
                "floor",
                vec![(**value).clone(), Expr::Value(scale.clone())],
            )),
            // Spark reads `(a, 1)` as a struct, its fields named after columns or `colN`.
            Expr::Tuple(items) => {
                let mut args = Vec::with_capacity(items.len() * 2);
                for (i, item) in items.iter().enumerate() {
                    let name = match item {
                        Expr::Identifier(ident) => ident.value.clone(),
                        Expr::CompoundIdentifier(parts) => parts
                            .last()
                            .map_or_else(|| format!("col{}", i + 1), |p| p.value.clone()),
                        _ => format!("col{}", i + 1),
                    };
                    args.push(Expr::Value(ast::Value::SingleQuotedString(name).into()));
                    args.push(item.clone());
                }
                Some(call("named_struct", args))
            }
            // DataFusion's planner takes `map(…)` itself (as keys and values arrays, and
            // not at all without arguments); Spark's `map` is the catalog's, under the name
            // PySpark's `create_map` has.
            Expr::Function(function)
                if function.name.0.len() == 1
                    && function.name.to_string().eq_ignore_ascii_case("map") =>
            {
                let mut renamed = function.clone();
                renamed.name =
                    ObjectName(vec![ObjectNamePart::Identifier(Ident::new("create_map"))]);
                Some(Expr::Function(renamed))
            }
            _ => None,
        };
        if let Some(rewritten) = rewritten {
            *expr = rewritten;
        }
        ControlFlow::Continue(())
    }
}

/// Spark's TIMESTAMP is an instant shown in the session's zone (DataFusion's TIMESTAMP WITH
/// TIME ZONE), TIMESTAMP_NTZ a wall-clock time (DataFusion's TIMESTAMP); both count
/// microseconds.
fn spark_timestamp_type(data_type: &mut ast::DataType) {
    use ast::{DataType, TimezoneInfo};
    let custom = |name: &ObjectName| name.to_string().to_ascii_uppercase();
    *data_type = match data_type {
        DataType::Timestamp(_, TimezoneInfo::None) => {
            DataType::Timestamp(Some(6), TimezoneInfo::WithTimeZone)
        }
        DataType::TimestampNtz(_) => DataType::Timestamp(Some(6), TimezoneInfo::None),
        DataType::Custom(name, _) if custom(name) == "TIMESTAMP_LTZ" => {
            DataType::Timestamp(Some(6), TimezoneInfo::WithTimeZone)
        }
        DataType::Custom(name, _) if custom(name) == "TIMESTAMP_NTZ" => {
            DataType::Timestamp(Some(6), TimezoneInfo::None)
        }
        _ => return,
    };
}

/// A managed table that `CREATE TABLE … USING` makes.
pub struct ManagedTable {
    pub name: String,
    pub location: PathBuf,
    /// What to run: the table's creation, after the write of its rows for `… AS SELECT`.
    pub statements: Vec<Statement>,
}

/// `CREATE TABLE name (…) USING format [PARTITIONED BY (…)] [LOCATION '…'] [AS SELECT …]`
/// as DataFusion statements; `None` for any other statement.
pub fn managed_table(
    create: &CreateTable,
    warehouse: &Path,
) -> Result<Option<ManagedTable>, SqlError> {
    let Some(HiveIOFormat::Using { format }) = create
        .hive_formats
        .as_ref()
        .and_then(|h| h.storage.as_ref())
    else {
        return Ok(None);
    };
    let format = format.value.to_ascii_uppercase();
    if !matches!(format.as_str(), "PARQUET" | "CSV" | "JSON" | "TEXT") {
        return Err(SqlError::Unsupported(format!(
            "tables `USING {}`: Ember's tables are parquet, csv, json or text",
            format.to_lowercase()
        )));
    }
    let name = create
        .name
        .0
        .last()
        .map(|part| part.to_string().trim_matches('`').to_lowercase())
        .unwrap_or_default();
    let location = match create
        .hive_formats
        .as_ref()
        .and_then(|h| h.location.clone())
        .or_else(|| create.location.clone())
    {
        Some(location) => PathBuf::from(location),
        None => std::path::absolute(warehouse.join(&name))
            .map_err(|e| SqlError::Unsupported(format!("warehouse directory: {e}")))?,
    };
    let partition_columns: Vec<String> = match &create.hive_distribution {
        HiveDistributionStyle::PARTITIONED { columns } => {
            columns.iter().map(|c| c.name.value.clone()).collect()
        }
        _ => Vec::new(),
    };
    let target = format!("{}/", location.display());
    let option =
        |key: &str, value: &str| (key.to_string(), Value::SingleQuotedString(value.into()));
    let (format, options) = match format.as_str() {
        // Spark's csv tables have no header line.
        "CSV" => (format, vec![option("format.has_header", "false")]),
        // A text table is one string column, a line per row: CSV with a delimiter and a
        // quote that text does not hold.
        "TEXT" => (
            "CSV".to_string(),
            vec![
                option("format.has_header", "false"),
                option("format.delimiter", "\u{1f}"),
                option("format.quote", "\u{1e}"),
            ],
        ),
        _ => (format, Vec::new()),
    };
    let mut statements = Vec::new();
    if let Some(query) = &create.query {
        statements.push(Statement::CopyTo(CopyToStatement {
            source: CopyToSource::Query(query.clone()),
            target: target.clone(),
            partitioned_by: partition_columns.clone(),
            stored_as: Some(format.clone()),
            options: options.clone(),
        }));
    }
    // Partition columns come last in a listing table's schema, as in Spark's.
    let (mut columns, partitions): (Vec<_>, Vec<_>) = create
        .columns
        .iter()
        .cloned()
        .partition(|c| !partition_columns.contains(&c.name.value));
    columns.extend(partitions);
    statements.push(Statement::CreateExternalTable(CreateExternalTable {
        name: create.name.clone(),
        columns,
        file_type: format,
        locations: vec![target],
        table_partition_cols: partition_columns,
        order_exprs: vec![],
        if_not_exists: create.if_not_exists,
        or_replace: create.or_replace,
        temporary: false,
        unbounded: false,
        options,
        constraints: vec![],
    }));
    Ok(Some(ManagedTable {
        name,
        location,
        statements,
    }))
}

/// The directory of a managed table: a listing table stored under the warehouse directory,
/// whose files belong to the table (Spark deletes them with it).
pub fn managed_directory(provider: &Arc<dyn TableProvider>, warehouse: &Path) -> Option<PathBuf> {
    let warehouse = std::path::absolute(warehouse).ok()?;
    let listing = provider.downcast_ref::<ListingTable>()?;
    listing.table_paths().iter().find_map(|path| {
        let local = PathBuf::from(format!("/{}", path.prefix().as_ref()));
        (path.scheme() == "file" && local.starts_with(&warehouse) && local != warehouse)
            .then_some(local)
    })
}

/// Drops a table, and the files of a managed one. `false` when there is no such table.
pub async fn drop_table(
    ctx: &SessionContext,
    name: &str,
    warehouse: &Path,
) -> Result<bool, SqlError> {
    let Ok(provider) = ctx.table_provider(name).await else {
        return Ok(false);
    };
    let directory = managed_directory(&provider, warehouse);
    ctx.deregister_table(name)?;
    if let Some(directory) = directory {
        remove_directory(&directory)?;
    }
    Ok(true)
}

/// Removes every row of a table stored as files on this machine (Spark's `TRUNCATE TABLE`).
pub async fn truncate_table(ctx: &SessionContext, name: &str) -> Result<(), SqlError> {
    let provider = ctx.table_provider(name).await?;
    let Some(listing) = provider.downcast_ref::<ListingTable>() else {
        return Err(SqlError::Unsupported(format!(
            "truncating `{name}`: only tables stored as files can be truncated"
        )));
    };
    for path in listing.table_paths() {
        if path.scheme() != "file" {
            return Err(SqlError::Unsupported(format!(
                "truncating `{name}`: its files are not on this machine ({path})"
            )));
        }
        let directory = PathBuf::from(format!("/{}", path.prefix().as_ref()));
        let entries = std::fs::read_dir(&directory).map_err(|e| io(&directory, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io(&directory, e))?;
            let file = entry.path();
            if file.is_dir() {
                std::fs::remove_dir_all(&file).map_err(|e| io(&file, e))?;
            } else {
                std::fs::remove_file(&file).map_err(|e| io(&file, e))?;
            }
        }
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> SqlError {
    SqlError::Unsupported(format!("{}: {e}", path.display()))
}

pub fn remove_directory(directory: &Path) -> Result<(), SqlError> {
    std::fs::remove_dir_all(directory).map_err(|e| {
        SqlError::Unsupported(format!(
            "the table was dropped but its files at {} could not be removed: {e}",
            directory.display()
        ))
    })
}
