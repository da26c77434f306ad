//! `spark_partition_id()`: the number of the partition a row is in. Which partition that is
//! is known only to the plan node running a partition, so the function itself only names
//! the call: Ember's physical planning runs a projection that calls it as a node that puts
//! each partition's number in its place (`ember_plan::PartitionIdRule`). The function is
//! volatile, so no optimisation folds, merges or moves it out of its projection first.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The name the physical rule looks for.
pub const SPARK_PARTITION_ID: &str = "spark_partition_id";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(SparkPartitionId {
        signature: Signature::nullary(Volatility::Volatile),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkPartitionId {
    signature: Signature,
}

impl ScalarUDFImpl for SparkPartitionId {
    fn name(&self) -> &str {
        SPARK_PARTITION_ID
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!(
            "[UNSUPPORTED_FEATURE] `spark_partition_id()` is supported in a select list (a projection), not in filters, joins or aggregations; select it first, then use the column"
        )
    }
}
