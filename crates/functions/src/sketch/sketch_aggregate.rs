//! The aggregate shell every sketch aggregate shares: its state is the sketch's binary
//! image, so partial aggregates travel between executors as Spark's do, and its result is
//! that image.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, TypeSignature, Volatility,
};

use super::images;

/// A sketch being built by one accumulator.
pub trait Sketcher: Send + Sync + std::fmt::Debug {
    /// Adds the rows of the aggregate's (evaluated) arguments.
    fn update(&mut self, args: &[ArrayRef]) -> Result<()>;
    /// Merges another sketch's image (a partial aggregate, or an input sketch).
    fn merge(&mut self, image: &[u8]) -> Result<()>;
    /// Merges every sketch of a binary column (nulls are no sketch).
    fn merge_column(&mut self, sketches: &ArrayRef) -> Result<()> {
        for image in images(sketches)?.into_iter().flatten() {
            self.merge(&image)?;
        }
        Ok(())
    }
    /// The sketch's binary image; `None` while the sketch is the identity of its merge
    /// (an intersection that has seen nothing), which partial states leave out.
    fn image(&self) -> Result<Option<Vec<u8>>>;
    /// The result when [`Sketcher::image`] is `None`.
    fn identity_image(&self) -> Result<Vec<u8>> {
        exec_err!("this sketch has no identity image")
    }
    /// The sketch's memory, in bytes.
    fn size(&self) -> usize;
}

/// Checks the argument types (at planning, with a clear error).
pub type CheckTypes = fn(&str, &[DataType]) -> Result<()>;
/// A new sketch for one group, from the aggregate's constant arguments.
pub type NewSketcher = fn(&str, &AccumulatorArgs) -> Result<Box<dyn Sketcher>>;

pub struct SketchAggregate {
    name: &'static str,
    signature: Signature,
    check: CheckTypes,
    new_sketcher: NewSketcher,
}

impl std::fmt::Debug for SketchAggregate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SketchAggregate")
            .field("name", &self.name)
            .finish()
    }
}

// One of each in the catalog, so the name identifies it.
impl PartialEq for SketchAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for SketchAggregate {}

impl std::hash::Hash for SketchAggregate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

pub fn sketch_aggregate(
    name: &'static str,
    arities: &[usize],
    check: CheckTypes,
    new_sketcher: NewSketcher,
) -> Arc<AggregateUDF> {
    Arc::new(AggregateUDF::from(SketchAggregate {
        name,
        signature: Signature::one_of(
            arities.iter().map(|n| TypeSignature::Any(*n)).collect(),
            Volatility::Immutable,
        ),
        check,
        new_sketcher,
    }))
}

impl AggregateUDFImpl for SketchAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.check)(self.name, arg_types)?;
        Ok(DataType::Binary)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[sketch]", args.name),
            DataType::Binary,
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SketchAccumulator {
            name: self.name,
            sketcher: (self.new_sketcher)(self.name, &args)?,
        }))
    }
}

#[derive(Debug)]
struct SketchAccumulator {
    name: &'static str,
    sketcher: Box<dyn Sketcher>,
}

impl Accumulator for SketchAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.sketcher.update(values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [state] = states else {
            return exec_err!("the state of `{}` is one sketch", self.name);
        };
        self.sketcher.merge_column(state)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(self.sketcher.image()?)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let image = match self.sketcher.image()? {
            Some(image) => image,
            None => self.sketcher.identity_image()?,
        };
        Ok(ScalarValue::Binary(Some(image)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sketcher.size()
    }
}
