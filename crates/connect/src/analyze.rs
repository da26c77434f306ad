//! The `AnalyzePlan` RPC: schemas, explain strings, tree strings and the other questions a
//! client asks about a plan without running it.

use std::hash::{DefaultHasher, Hash, Hasher};

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::TreeNode;
use datafusion::datasource::listing::ListingTable;
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::LogicalPlan;
use spark_connect_proto as sc;
use spark_connect_proto::analyze_plan_request::Analyze;
use spark_connect_proto::analyze_plan_request::explain::ExplainMode;
use spark_connect_proto::analyze_plan_response::{self as analyzed, Result as Answer};
use spark_connect_proto::plan::OpType;

use crate::error::{ConnectResult, SparkError};
use crate::session::ConnectSession;
use crate::types;

async fn logical(session: &ConnectSession, plan: Option<&sc::Plan>) -> ConnectResult<LogicalPlan> {
    match plan.and_then(|p| p.op_type.as_ref()) {
        Some(OpType::Root(relation)) => session.planner().plan(relation).await,
        Some(_) => Err(SparkError::unsupported("analyzing commands")),
        None => Err(SparkError::invalid_plan("AnalyzePlan without a plan")),
    }
}

async fn analyzed_plan(
    session: &ConnectSession,
    plan: Option<&sc::Plan>,
) -> ConnectResult<LogicalPlan> {
    session.analyzed(logical(session, plan).await?)
}

async fn relation(
    session: &ConnectSession,
    relation: Option<&sc::Relation>,
) -> ConnectResult<LogicalPlan> {
    match relation {
        Some(relation) => session.planner().plan(relation).await,
        None => Err(SparkError::invalid_plan("AnalyzePlan without a relation")),
    }
}

fn wire(schema: &Schema, time_zone: &str) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| {
                f.as_ref()
                    .clone()
                    .with_name(crate::naming::client_name(f.name()))
                    .with_data_type(types::wire_type(f.data_type(), time_zone))
            })
            .collect::<Vec<_>>(),
    )
}

pub async fn answer(session: &ConnectSession, analyze: Analyze) -> ConnectResult<Answer> {
    let time_zone = session.time_zone();
    Ok(match analyze {
        Analyze::Schema(s) => {
            let plan = analyzed_plan(session, s.plan.as_ref()).await?;
            let schema = wire(plan.schema().as_arrow(), &time_zone);
            Answer::Schema(analyzed::Schema {
                schema: Some(types::schema_to_spark(&schema)?),
            })
        }
        Analyze::Explain(e) => {
            let plan = logical(session, e.plan.as_ref()).await?;
            let mode = ExplainMode::try_from(e.explain_mode).unwrap_or(ExplainMode::Simple);
            Answer::Explain(analyzed::Explain {
                explain_string: explain(session, plan, mode).await?,
            })
        }
        Analyze::TreeString(t) => {
            let plan = analyzed_plan(session, t.plan.as_ref()).await?;
            let schema = wire(plan.schema().as_arrow(), &time_zone);
            let level = t.level.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
            Answer::TreeString(analyzed::TreeString {
                tree_string: tree_string(&schema, level),
            })
        }
        Analyze::IsLocal(l) => {
            let plan = logical(session, l.plan.as_ref()).await?;
            Answer::IsLocal(analyzed::IsLocal {
                is_local: input_files(&plan).is_empty() && !has_table_scan_of_files(&plan),
            })
        }
        Analyze::IsStreaming(_) => Answer::IsStreaming(analyzed::IsStreaming {
            is_streaming: false,
        }),
        Analyze::InputFiles(i) => {
            let plan = logical(session, i.plan.as_ref()).await?;
            Answer::InputFiles(analyzed::InputFiles {
                files: input_files(&plan),
            })
        }
        Analyze::SparkVersion(_) => Answer::SparkVersion(analyzed::SparkVersion {
            version: crate::service::SPARK_VERSION.to_string(),
        }),
        Analyze::DdlParse(d) => {
            let schema = types::parse_schema(&d.ddl_string, &time_zone)?;
            let parsed = if d
                .ddl_string
                .trim_start()
                .to_lowercase()
                .starts_with("struct<")
                || schema.fields().len() != 1
                || schema.field(0).name() != "value"
            {
                types::schema_to_spark(&schema)?
            } else {
                types::to_spark(schema.field(0).data_type())?
            };
            Answer::DdlParse(analyzed::DdlParse {
                parsed: Some(parsed),
            })
        }
        Analyze::SameSemantics(s) => {
            let a = logical(session, s.target_plan.as_ref()).await?;
            let b = logical(session, s.other_plan.as_ref()).await?;
            Answer::SameSemantics(analyzed::SameSemantics {
                result: canonical(session, a)? == canonical(session, b)?,
            })
        }
        Analyze::SemanticHash(s) => {
            let plan = logical(session, s.plan.as_ref()).await?;
            let mut hasher = DefaultHasher::new();
            canonical(session, plan)?.hash(&mut hasher);
            Answer::SemanticHash(analyzed::SemanticHash {
                result: hasher.finish() as i32,
            })
        }
        // Ember does not cache DataFrames: persist is accepted, and reported as asked.
        Analyze::Persist(p) => {
            relation(session, p.relation.as_ref()).await?;
            Answer::Persist(analyzed::Persist {})
        }
        Analyze::Unpersist(u) => {
            relation(session, u.relation.as_ref()).await?;
            Answer::Unpersist(analyzed::Unpersist {})
        }
        Analyze::GetStorageLevel(g) => {
            relation(session, g.relation.as_ref()).await?;
            Answer::GetStorageLevel(analyzed::GetStorageLevel {
                storage_level: Some(sc::StorageLevel {
                    use_disk: false,
                    use_memory: false,
                    use_off_heap: false,
                    deserialized: false,
                    replication: 1,
                }),
            })
        }
        Analyze::JsonToDdl(j) => {
            let schema = types::parse_schema(&j.json_string, &time_zone)?;
            Answer::JsonToDdl(analyzed::JsonToDdl {
                ddl_string: schema
                    .fields()
                    .iter()
                    .map(|f| {
                        let null = if f.is_nullable() { "" } else { " NOT NULL" };
                        format!(
                            "{} {}{null}",
                            f.name(),
                            types::simple_string(f.data_type()).to_uppercase()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            })
        }
    })
}

/// The optimized plan as text: equal for plans that compute the same thing the same way.
fn canonical(session: &ConnectSession, plan: LogicalPlan) -> ConnectResult<String> {
    let optimized = session.executor.context().state().optimize(&plan)?;
    Ok(optimized.display_indent().to_string())
}

async fn explain(
    session: &ConnectSession,
    plan: LogicalPlan,
    mode: ExplainMode,
) -> ConnectResult<String> {
    let state = session.executor.context().state();
    let optimized = state.optimize(&plan)?;
    let physical = state.create_physical_plan(&plan).await?;
    let physical_text = datafusion::physical_plan::displayable(physical.as_ref())
        .indent(true)
        .to_string();
    Ok(match mode {
        ExplainMode::Extended | ExplainMode::Cost => format!(
            "== Parsed Logical Plan ==\n{}\n\n== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{}",
            plan.display_indent(),
            optimized.display_indent(),
            physical_text
        ),
        ExplainMode::Formatted => format!(
            "== Physical Plan ==\n{}\n\n{}",
            physical_text,
            optimized.display_indent_schema()
        ),
        ExplainMode::Codegen => {
            format!("Ember runs no generated code; the physical plan is:\n{physical_text}")
        }
        _ => format!("== Physical Plan ==\n{physical_text}"),
    })
}

/// `printSchema()`'s tree.
pub fn tree_string(schema: &Schema, level: Option<usize>) -> String {
    let mut out = String::from("root\n");
    for field in schema.fields() {
        tree_field(
            &mut out,
            field.name(),
            field.data_type(),
            field.is_nullable(),
            1,
            level,
        );
    }
    out
}

fn tree_field(
    out: &mut String,
    name: &str,
    data_type: &DataType,
    nullable: bool,
    depth: usize,
    level: Option<usize>,
) {
    if level.is_some_and(|l| depth > l) {
        return;
    }
    let prefix = " |   ".repeat(depth - 1);
    let shown = match data_type {
        DataType::List(_) | DataType::LargeList(_) => "array".to_string(),
        DataType::Struct(_) => "struct".to_string(),
        DataType::Map(_, _) => "map".to_string(),
        other => spark_tree_name(other),
    };
    out.push_str(&format!(
        "{prefix} |-- {name}: {shown} (nullable = {nullable})\n"
    ));
    match data_type {
        DataType::Struct(fields) => {
            for f in fields {
                tree_field(
                    out,
                    f.name(),
                    f.data_type(),
                    f.is_nullable(),
                    depth + 1,
                    level,
                );
            }
        }
        DataType::List(f) | DataType::LargeList(f) => {
            tree_field(
                out,
                "element",
                f.data_type(),
                f.is_nullable(),
                depth + 1,
                level,
            );
        }
        DataType::Map(entries, _) => {
            if let DataType::Struct(pair) = entries.data_type() {
                tree_field(out, "key", pair[0].data_type(), false, depth + 1, level);
                tree_field(
                    out,
                    "value",
                    pair[1].data_type(),
                    pair[1].is_nullable(),
                    depth + 1,
                    level,
                );
            }
        }
        _ => {}
    }
}

/// The type names `printSchema` uses (`integer`, `long`, `string`, …).
fn spark_tree_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Int8 => "byte".into(),
        DataType::Int16 => "short".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "long".into(),
        other => types::simple_string(other),
    }
}

fn has_table_scan_of_files(plan: &LogicalPlan) -> bool {
    let mut found = false;
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && provider.downcast_ref::<ListingTable>().is_some()
        {
            found = true;
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    found
}

/// The files and directories a plan reads.
fn input_files(plan: &LogicalPlan) -> Vec<String> {
    let mut files = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && let Some(listing) = provider.downcast_ref::<ListingTable>()
        {
            files.extend(listing.table_paths().iter().map(|p| p.as_str().to_string()));
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    files.sort();
    files.dedup();
    files
}
