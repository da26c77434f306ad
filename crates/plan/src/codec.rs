//! Plans travel as `datafusion-proto` bytes; Ember's own operators are encoded by
//! [`EmberCodec`] as small protobuf messages.

use std::io::Cursor;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, HigherOrderUDF, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{
    AsExecutionPlan, PhysicalExtensionCodec, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf::PhysicalPlanNode;
use prost::Message;

use crate::partition_id::PartitionIdExec;
use crate::shuffle::{ReadMode, ShuffleReadExec, ShuffleWriteExec};

#[derive(Clone, PartialEq, prost::Message)]
struct EmberNode {
    #[prost(oneof = "Node", tags = "1, 2, 3")]
    node: Option<Node>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Node {
    #[prost(message, tag = "1")]
    Write(WriteNode),
    #[prost(message, tag = "2")]
    Read(ReadNode),
    /// A [`PartitionIdExec`]; its projection is its one input.
    #[prost(message, tag = "3")]
    PartitionId(PartitionIdNode),
}

#[derive(Clone, PartialEq, prost::Message)]
struct PartitionIdNode {}

#[derive(Clone, PartialEq, prost::Message)]
struct WriteNode {
    #[prost(uint32, tag = "1")]
    stage_id: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadNode {
    #[prost(uint32, tag = "1")]
    stage_id: u32,
    #[prost(uint32, tag = "2")]
    partitions: u32,
    #[prost(bool, tag = "3")]
    passthrough: bool,
    /// The schema as an Arrow IPC stream with no batches.
    #[prost(bytes = "vec", tag = "4")]
    schema: Vec<u8>,
}

/// The byte a function of Ember's Spark catalog is encoded with.
const CATALOG_FUNCTION: u8 = 1;

fn unknown_function(name: &str) -> DataFusionError {
    DataFusionError::Internal(format!(
        "the plan names function `{name}`, which this executor does not know; driver and executors must run the same Ember version"
    ))
}

/// Encodes and decodes Ember's operators inside DataFusion's plan protobuf.
#[derive(Debug, Default)]
pub struct EmberCodec;

impl PhysicalExtensionCodec for EmberCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let node = EmberNode::decode(buf)
            .map_err(|e| DataFusionError::Internal(format!("bad Ember plan node: {e}")))?;
        match node.node {
            Some(Node::Write(write)) => {
                let input = inputs.first().ok_or_else(|| {
                    DataFusionError::Internal("ShuffleWriteExec without input".into())
                })?;
                Ok(Arc::new(ShuffleWriteExec::new(
                    write.stage_id,
                    input.clone(),
                )))
            }
            Some(Node::Read(read)) => {
                let mode = if read.passthrough {
                    ReadMode::Passthrough
                } else {
                    ReadMode::Partitioned
                };
                Ok(Arc::new(ShuffleReadExec::new(
                    read.stage_id,
                    schema_from_bytes(&read.schema)?,
                    read.partitions as usize,
                    mode,
                )))
            }
            Some(Node::PartitionId(_)) => {
                let projection = inputs.first().ok_or_else(|| {
                    DataFusionError::Internal("PartitionIdExec without its projection".into())
                })?;
                Ok(Arc::new(PartitionIdExec::new(projection.clone())?))
            }
            None => Err(DataFusionError::Internal("empty Ember plan node".into())),
        }
    }

    // A function of Ember's Spark catalog travels with a marker (see `try_encode_udf`), so an
    // executor takes the catalog's implementation even where DataFusion has a built-in of
    // the same name with other semantics (`concat`, `abs`, …).
    fn try_decode_udf(&self, name: &str, _buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        ember_functions::scalar_function(name).ok_or_else(|| unknown_function(name))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        // Only the catalog's own implementation: a Spark function may simplify into
        // DataFusion's built-in of the same name (`date_trunc`), which executors have.
        if ember_functions::scalar_function(node.name()).is_some_and(|f| f.as_ref() == node) {
            buf.push(CATALOG_FUNCTION);
        }
        Ok(())
    }

    fn try_decode_udaf(&self, name: &str, _buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        ember_functions::aggregate_function(name).ok_or_else(|| unknown_function(name))
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        if ember_functions::aggregate_function(node.name()).is_some_and(|f| f.as_ref() == node) {
            buf.push(CATALOG_FUNCTION);
        }
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
        ember_functions::window_function(name).ok_or_else(|| unknown_function(name))
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        if ember_functions::window_function(node.name()).is_some_and(|f| f.as_ref() == node) {
            buf.push(CATALOG_FUNCTION);
        }
        Ok(())
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        _buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        ember_functions::higher_order_function(name).ok_or_else(|| unknown_function(name))
    }

    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if ember_functions::higher_order_function(node.name()).is_some_and(|f| f.as_ref() == node) {
            buf.push(CATALOG_FUNCTION);
        }
        Ok(())
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let encoded = if let Some(write) = node.downcast_ref::<ShuffleWriteExec>() {
            Node::Write(WriteNode {
                stage_id: write.stage_id(),
            })
        } else if let Some(read) = node.downcast_ref::<ShuffleReadExec>() {
            Node::Read(ReadNode {
                stage_id: read.stage_id(),
                partitions: read.partitions() as u32,
                passthrough: read.mode() == ReadMode::Passthrough,
                schema: schema_to_bytes(&read.schema())?,
            })
        } else if node.downcast_ref::<PartitionIdExec>().is_some() {
            Node::PartitionId(PartitionIdNode {})
        } else {
            return Err(DataFusionError::NotImplemented(format!(
                "Ember cannot encode {} for distribution",
                node.name()
            )));
        };
        EmberNode {
            node: Some(encoded),
        }
        .encode(buf)
        .map_err(|e| DataFusionError::Internal(e.to_string()))
    }
}

fn schema_to_bytes(schema: &SchemaRef) -> Result<Vec<u8>> {
    let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
    writer.finish()?;
    Ok(writer.into_inner()?)
}

fn schema_from_bytes(bytes: &[u8]) -> Result<SchemaRef> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    Ok(Arc::new(Schema::clone(reader.schema().as_ref())))
}

/// A plan as bytes for the wire.
pub fn encode_plan(plan: Arc<dyn ExecutionPlan>) -> Result<Vec<u8>> {
    let plan = unproject_series(plan)?;
    Ok(PhysicalPlanNode::try_from_physical_plan(plan, &EmberCodec)?.encode_to_vec())
}

/// DataFusion's encoding of `range`/`generate_series` keeps the projected schema but not the
/// projection, so a series whose only column was projected away (`count(*)` over it) decodes
/// into a generator that makes a column the schema lacks. Such a series is sent whole, with
/// the projection as a separate (empty) step.
fn unproject_series(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::functions_table::generate_series::GenericSeriesState;
    use datafusion::physical_plan::memory::LazyMemoryExec;
    use datafusion::physical_plan::projection::ProjectionExec;
    plan.transform_up(|node| {
        let Some(series) = node.downcast_ref::<LazyMemoryExec>() else {
            return Ok(Transformed::no(node));
        };
        let [generator] = series.generators().as_slice() else {
            return Ok(Transformed::no(node));
        };
        let is_int_series = generator
            .read()
            .as_any()
            .downcast_ref::<GenericSeriesState<i64>>()
            .is_some();
        if !is_int_series || !series.schema().fields().is_empty() {
            return Ok(Transformed::no(node));
        }
        let whole = Arc::new(Schema::new(vec![arrow::datatypes::Field::new(
            "value",
            arrow::datatypes::DataType::Int64,
            false,
        )]));
        let unprojected = LazyMemoryExec::try_new(whole, vec![generator.clone()])?;
        let empty: Vec<datafusion::physical_plan::projection::ProjectionExpr> = Vec::new();
        let projected = ProjectionExec::try_new(empty, Arc::new(unprojected))?;
        Ok(Transformed::yes(
            Arc::new(projected) as Arc<dyn ExecutionPlan>
        ))
    })
    .map(|t| t.data)
}

/// A plan from the wire, with functions and settings from `context`.
pub fn decode_plan(bytes: &[u8], context: &TaskContext) -> Result<Arc<dyn ExecutionPlan>> {
    let node = PhysicalPlanNode::decode(bytes)
        .map_err(|e| DataFusionError::Internal(format!("bad plan bytes: {e}")))?;
    node.try_into_physical_plan(context, &EmberCodec)
}
