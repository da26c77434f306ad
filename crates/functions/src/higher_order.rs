//! Spark's higher-order functions, the ones that take lambdas: `transform`, `filter`,
//! `exists`, `forall`, `aggregate` (`reduce`), `zip_with`, `map_filter`, `transform_keys`,
//! `transform_values` and `map_zip_with`, on DataFusion's lambda support. Each evaluates its
//! lambda once over all the elements of a batch (flattened), not once per row; `aggregate`,
//! whose accumulator depends on the previous element, runs one element position at a time
//! over every row that still has elements.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int32Array, ListArray, MapArray,
    StructArray, UInt32Array, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, filter, interleave, take, take_arrays};
use arrow::datatypes::{DataType, Field, FieldRef};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda,
    Volatility,
};

use crate::type_syntax::map_type;

/// Which Spark function a [`SparkHigherOrder`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Transform,
    Filter,
    Exists,
    Forall,
    Aggregate,
    ZipWith,
    MapFilter,
    TransformKeys,
    TransformValues,
    MapZipWith,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::Transform,
        Kind::Filter,
        Kind::Exists,
        Kind::Forall,
        Kind::Aggregate,
        Kind::ZipWith,
        Kind::MapFilter,
        Kind::TransformKeys,
        Kind::TransformValues,
        Kind::MapZipWith,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Transform => "transform",
            Kind::Filter => "filter",
            Kind::Exists => "exists",
            Kind::Forall => "forall",
            Kind::Aggregate => "aggregate",
            Kind::ZipWith => "zip_with",
            Kind::MapFilter => "map_filter",
            Kind::TransformKeys => "transform_keys",
            Kind::TransformValues => "transform_values",
            Kind::MapZipWith => "map_zip_with",
        }
    }

    /// How many value arguments come before the lambdas, and how many lambdas at most.
    fn shape(self) -> (usize, usize) {
        match self {
            Kind::Aggregate => (2, 2),
            Kind::ZipWith | Kind::MapZipWith => (2, 1),
            _ => (1, 1),
        }
    }

    fn takes_maps(self) -> bool {
        matches!(
            self,
            Kind::MapFilter | Kind::TransformKeys | Kind::TransformValues | Kind::MapZipWith
        )
    }
}

pub fn functions() -> Vec<Arc<HigherOrderUDF>> {
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let aliases = match kind {
                Kind::Aggregate => vec!["reduce".to_string()],
                _ => Vec::new(),
            };
            Arc::new(HigherOrderUDF::new_from_impl(SparkHigherOrder {
                kind,
                aliases,
                signature: HigherOrderSignature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkHigherOrder {
    kind: Kind,
    aliases: Vec<String>,
    signature: HigherOrderSignature,
}

fn element_field(t: &DataType) -> Result<FieldRef> {
    match t {
        DataType::List(f) => Ok(Arc::new(Field::new("element", f.data_type().clone(), true))),
        DataType::Null => Ok(Arc::new(Field::new("element", DataType::Null, true))),
        other => plan_err!("expected an array, got {other}"),
    }
}

/// The key and value fields of a map type.
fn entry_fields(t: &DataType) -> Result<(FieldRef, FieldRef)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                Ok((fields[0].clone(), fields[1].clone()))
            }
            other => plan_err!("a map's entries are a struct of key and value, not {other}"),
        },
        other => plan_err!("expected a map, got {other}"),
    }
}

fn param(name: &str, t: &DataType) -> FieldRef {
    Arc::new(Field::new(name, t.clone(), true))
}

impl HigherOrderUDFImpl for SparkHigherOrder {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (values, _) = self.kind.shape();
        if arg_types.len() != values {
            return plan_err!(
                "`{}` takes {values} value argument(s) before its lambda, not {}",
                self.name(),
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                // `aggregate`'s second value is the start value: any type.
                if self.kind == Kind::Aggregate && i == 1 {
                    return Ok(t.clone());
                }
                if self.kind.takes_maps() {
                    return match t {
                        DataType::Map(_, _) => Ok(t.clone()),
                        other => plan_err!("`{}` takes a map, not {other}", self.name()),
                    };
                }
                match t {
                    DataType::List(_) => Ok(t.clone()),
                    DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                        Ok(DataType::List(f.clone()))
                    }
                    DataType::Null => Ok(DataType::List(Arc::new(Field::new_list_field(
                        DataType::Null,
                        true,
                    )))),
                    other => plan_err!("`{}` takes an array, not {other}", self.name()),
                }
            })
            .collect()
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let values: Vec<&FieldRef> = fields
            .iter()
            .filter_map(|f| match f {
                ValueOrLambda::Value(v) => Some(v),
                ValueOrLambda::Lambda(_) => None,
            })
            .collect();
        let lambdas = fields.len() - values.len();
        let (value_count, max_lambdas) = self.kind.shape();
        if values.len() != value_count || lambdas == 0 || lambdas > max_lambdas {
            return plan_err!(
                "`{}` takes {value_count} value(s) and {} lambda(s)",
                self.name(),
                if max_lambdas > 1 { "1 or 2" } else { "1" }
            );
        }
        let index = param("index", &DataType::Int32);
        let params = match self.kind {
            Kind::Transform | Kind::Filter => {
                vec![vec![element_field(values[0].data_type())?, index]]
            }
            Kind::Exists | Kind::Forall => vec![vec![element_field(values[0].data_type())?]],
            Kind::Aggregate => {
                let acc = param("acc", values[1].data_type());
                let merge = vec![acc.clone(), element_field(values[0].data_type())?];
                let mut all = vec![merge];
                if lambdas == 2 {
                    all.push(vec![acc]);
                }
                all
            }
            Kind::ZipWith => vec![vec![
                element_field(values[0].data_type())?,
                element_field(values[1].data_type())?,
            ]],
            Kind::MapFilter | Kind::TransformKeys | Kind::TransformValues => {
                let (key, value) = entry_fields(values[0].data_type())?;
                vec![vec![
                    param("key", key.data_type()),
                    param("value", value.data_type()),
                ]]
            }
            Kind::MapZipWith => {
                let (key, left) = entry_fields(values[0].data_type())?;
                let (_, right) = entry_fields(values[1].data_type())?;
                vec![vec![
                    param("key", key.data_type()),
                    param("value1", left.data_type()),
                    param("value2", right.data_type()),
                ]]
            }
        };
        Ok(LambdaParametersProgress::Complete(params))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let mut values = Vec::new();
        let mut lambdas = Vec::new();
        for f in args.arg_fields {
            match f {
                ValueOrLambda::Value(v) => values.push(v.clone()),
                ValueOrLambda::Lambda(l) => lambdas.push(l.clone()),
            }
        }
        let (Some(first), Some(lambda)) = (values.first(), lambdas.first()) else {
            return plan_err!("`{}` takes a value and a lambda", self.name());
        };
        let list_of =
            |t: &DataType| DataType::List(Arc::new(Field::new_list_field(t.clone(), true)));
        let data_type = match self.kind {
            Kind::Transform | Kind::ZipWith => list_of(lambda.data_type()),
            Kind::Filter | Kind::MapFilter => first.data_type().clone(),
            Kind::Exists | Kind::Forall => DataType::Boolean,
            Kind::Aggregate => match lambdas.get(1) {
                Some(finish) => finish.data_type().clone(),
                None => values[1].data_type().clone(),
            },
            Kind::TransformKeys => {
                let (_, value) = entry_fields(first.data_type())?;
                map_type(lambda.data_type().clone(), value.data_type().clone(), true)
            }
            Kind::TransformValues | Kind::MapZipWith => {
                let (key, _) = entry_fields(first.data_type())?;
                map_type(key.data_type().clone(), lambda.data_type().clone(), true)
            }
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let mut values = Vec::new();
        let mut lambdas = Vec::new();
        for a in &args.args {
            match a {
                ValueOrLambda::Value(v) => values.push(v.to_array(rows)?),
                ValueOrLambda::Lambda(l) => lambdas.push(l),
            }
        }
        let Some(lambda) = lambdas.first() else {
            return exec_err!("`{}` needs a lambda", self.name());
        };
        let result = match self.kind {
            Kind::Transform => transform(&values[0], lambda, &args.return_field)?,
            Kind::Filter => filter_list(&values[0], lambda)?,
            Kind::Exists => quantify(&values[0], lambda, Quantifier::Exists)?,
            Kind::Forall => quantify(&values[0], lambda, Quantifier::Forall)?,
            Kind::Aggregate => aggregate(&values[0], &values[1], lambda, lambdas.get(1).copied())?,
            Kind::ZipWith => zip_with(&values[0], &values[1], lambda, &args.return_field)?,
            Kind::MapFilter => map_filter(&values[0], lambda)?,
            Kind::TransformKeys | Kind::TransformValues => transform_map(
                &values[0],
                lambda,
                self.kind == Kind::TransformKeys,
                &args.return_field,
            )?,
            Kind::MapZipWith => map_zip_with(&values[0], &values[1], lambda, &args.return_field)?,
        };
        Ok(ColumnarValue::Array(result))
    }
}

/// Where each row's elements (or entries) start and end, from zero.
struct Rows {
    offsets: OffsetBuffer<i32>,
}

impl Rows {
    /// Offsets of a possibly sliced column, shifted to start at zero, with the range of
    /// its values they cover.
    fn of(offsets: &OffsetBuffer<i32>) -> (Rows, usize, usize) {
        let start = offsets[0] as usize;
        let end = offsets[offsets.len() - 1] as usize;
        let rows = Rows {
            offsets: offsets.clone().subtract(offsets[0]),
        };
        (rows, start, end - start)
    }

    fn count(&self) -> usize {
        self.offsets.len() - 1
    }

    fn range(&self, row: usize) -> (usize, usize) {
        (self.offsets[row] as usize, self.offsets[row + 1] as usize)
    }

    /// A predicate's answers as a filter (NULL counts as false, as in a WHERE clause) and the
    /// offsets of the rows once it is applied.
    fn kept(&self, answers: &BooleanArray) -> (BooleanArray, OffsetBuffer<i32>) {
        let keep = BooleanArray::from_iter(answers.iter().map(|k| Some(k == Some(true))));
        let lengths = (0..self.count()).map(|row| {
            let (start, end) = self.range(row);
            (start..end).filter(|i| keep.value(*i)).count()
        });
        let offsets = OffsetBuffer::from_lengths(lengths);
        (keep, offsets)
    }

    /// For every element, the row it belongs to (to repeat captured columns).
    fn row_of_each(&self) -> UInt32Array {
        (0..self.count())
            .flat_map(|row| {
                let (start, end) = self.range(row);
                std::iter::repeat_n(row as u32, end - start)
            })
            .collect()
    }
}

/// A list column's parts with its offsets starting at zero and its values cut to match.
struct ListParts {
    rows: Rows,
    values: ArrayRef,
    nulls: Option<NullBuffer>,
}

impl ListParts {
    fn of(array: &ArrayRef) -> Result<ListParts> {
        let Some(list) = array.as_list_opt::<i32>() else {
            return exec_err!("expected an array column, got {}", array.data_type());
        };
        let (rows, start, len) = Rows::of(list.offsets());
        Ok(ListParts {
            rows,
            values: list.values().slice(start, len),
            nulls: list.nulls().cloned(),
        })
    }

    fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(row))
    }

    fn row_of_values(&self) -> UInt32Array {
        self.rows.row_of_each()
    }

    /// For every value, its position in its list.
    fn index_of_values(&self) -> Int32Array {
        (0..self.rows.count())
            .flat_map(|row| {
                let (start, end) = self.rows.range(row);
                0..(end - start) as i32
            })
            .collect()
    }
}

fn spread(rows: &UInt32Array) -> impl FnOnce(&[ArrayRef]) -> Result<Vec<ArrayRef>> + '_ {
    move |captured: &[ArrayRef]| Ok(take_arrays(captured, rows, None)?)
}

fn evaluate(
    lambda: &LambdaArgument,
    params: &[ArrayRef],
    rows: &UInt32Array,
    len: usize,
) -> Result<ArrayRef> {
    let closures: Vec<Box<dyn Fn() -> Result<ArrayRef>>> = params
        .iter()
        .map(|p| {
            let p = p.clone();
            Box::new(move || Ok(p.clone())) as Box<dyn Fn() -> Result<ArrayRef>>
        })
        .collect();
    let refs: Vec<&dyn Fn() -> Result<ArrayRef>> = closures.iter().map(|c| c.as_ref()).collect();
    lambda.evaluate(&refs, spread(rows))?.into_array(len)
}

fn item_field(return_field: &FieldRef) -> Result<FieldRef> {
    match return_field.data_type() {
        DataType::List(f) => Ok(f.clone()),
        other => exec_err!("expected to return an array, not {other}"),
    }
}

fn transform(
    list: &ArrayRef,
    lambda: &LambdaArgument,
    return_field: &FieldRef,
) -> Result<ArrayRef> {
    let parts = ListParts::of(list)?;
    let index: ArrayRef = Arc::new(parts.index_of_values());
    let out = evaluate(
        lambda,
        &[parts.values.clone(), index],
        &parts.row_of_values(),
        parts.values.len(),
    )?;
    let field = item_field(return_field)?;
    let out = cast(&out, field.data_type())?;
    Ok(Arc::new(ListArray::try_new(
        field,
        parts.rows.offsets,
        out,
        parts.nulls,
    )?))
}

/// A predicate's answers as booleans (a NULL answer stays NULL).
fn predicate(out: ArrayRef) -> Result<BooleanArray> {
    match out.data_type() {
        DataType::Boolean => Ok(out.as_boolean().clone()),
        DataType::Null => Ok(BooleanArray::new_null(out.len())),
        other => exec_err!("the lambda must return a boolean, not {other}"),
    }
}

fn filter_list(list: &ArrayRef, lambda: &LambdaArgument) -> Result<ArrayRef> {
    let parts = ListParts::of(list)?;
    let index: ArrayRef = Arc::new(parts.index_of_values());
    let keep = predicate(evaluate(
        lambda,
        &[parts.values.clone(), index],
        &parts.row_of_values(),
        parts.values.len(),
    )?)?;
    let (keep, offsets) = parts.rows.kept(&keep);
    let values = filter(&parts.values, &keep)?;
    let DataType::List(field) = list.data_type() else {
        return exec_err!("filter takes an array");
    };
    Ok(Arc::new(ListArray::try_new(
        field.clone(),
        offsets,
        values,
        parts.nulls,
    )?))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quantifier {
    Exists,
    Forall,
}

/// `exists` and `forall` with SQL's three-valued logic: a NULL answer makes the result NULL
/// unless another element decides it.
fn quantify(list: &ArrayRef, lambda: &LambdaArgument, quantifier: Quantifier) -> Result<ArrayRef> {
    let parts = ListParts::of(list)?;
    let answers = predicate(evaluate(
        lambda,
        std::slice::from_ref(&parts.values),
        &parts.row_of_values(),
        parts.values.len(),
    )?)?;
    let decisive = quantifier == Quantifier::Exists;
    let mut out = BooleanBuilder::with_capacity(parts.rows.count());
    for row in 0..parts.rows.count() {
        if parts.is_null(row) {
            out.append_null();
            continue;
        }
        let (start, end) = parts.rows.range(row);
        let mut saw_null = false;
        let mut decided = false;
        for i in start..end {
            match answers.is_valid(i).then(|| answers.value(i)) {
                Some(answer) if answer == decisive => {
                    decided = true;
                    break;
                }
                Some(_) => {}
                None => saw_null = true,
            }
        }
        if decided {
            out.append_value(decisive);
        } else if saw_null {
            out.append_null();
        } else {
            out.append_value(!decisive);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn aggregate(
    list: &ArrayRef,
    start: &ArrayRef,
    merge: &LambdaArgument,
    finish: Option<&LambdaArgument>,
) -> Result<ArrayRef> {
    let parts = ListParts::of(list)?;
    let rows = parts.rows.count();
    let acc_type = start.data_type().clone();
    let mut acc = start.clone();
    let longest = (0..rows)
        .map(|r| parts.rows.range(r).1 - parts.rows.range(r).0)
        .max()
        .unwrap_or(0);
    for position in 0..longest {
        let active: Vec<u32> = (0..rows)
            .filter(|r| {
                !parts.is_null(*r) && parts.rows.range(*r).1 - parts.rows.range(*r).0 > position
            })
            .map(|r| r as u32)
            .collect();
        let active = UInt32Array::from(active);
        let element_index = UInt32Array::from_iter_values(
            active
                .values()
                .iter()
                .map(|r| (parts.rows.range(*r as usize).0 + position) as u32),
        );
        let elements = take(&parts.values, &element_index, None)?;
        let current = take(&acc, &active, None)?;
        let merged = evaluate(merge, &[current, elements], &active, active.len())?;
        let merged = cast(&merged, &acc_type)?;
        // Rows still being folded take the merged value; the others keep theirs.
        let mut pick = Vec::with_capacity(rows);
        let mut next_active = 0;
        for row in 0..rows {
            if next_active < active.len() && active.value(next_active) as usize == row {
                pick.push((1, next_active));
                next_active += 1;
            } else {
                pick.push((0, row));
            }
        }
        acc = interleave(&[acc.as_ref(), merged.as_ref()], &pick)?;
    }
    let all_rows = UInt32Array::from_iter_values(0..rows as u32);
    let result = match finish {
        Some(finish) => evaluate(finish, &[acc], &all_rows, rows)?,
        None => acc,
    };
    match &parts.nulls {
        Some(nulls) if nulls.null_count() > 0 => {
            let is_null = BooleanArray::from_iter((0..rows).map(|r| Some(nulls.is_null(r))));
            Ok(arrow::compute::nullif(&result, &is_null)?)
        }
        _ => Ok(result),
    }
}

/// Indices into a list's values for each position up to `len`, NULL past the list's end.
fn padded_indices(parts: &ListParts, row: usize, len: usize, out: &mut Vec<Option<u32>>) {
    let (start, end) = parts.rows.range(row);
    for i in 0..len {
        out.push((start + i < end).then_some((start + i) as u32));
    }
}

fn zip_with(
    left: &ArrayRef,
    right: &ArrayRef,
    lambda: &LambdaArgument,
    return_field: &FieldRef,
) -> Result<ArrayRef> {
    let (a, b) = (ListParts::of(left)?, ListParts::of(right)?);
    let rows = a.rows.count();
    let mut left_index = Vec::new();
    let mut right_index = Vec::new();
    let mut row_of = Vec::new();
    let mut lengths = Vec::with_capacity(rows);
    for row in 0..rows {
        let len = if a.is_null(row) || b.is_null(row) {
            0
        } else {
            let (la, lb) = (
                a.rows.range(row).1 - a.rows.range(row).0,
                b.rows.range(row).1 - b.rows.range(row).0,
            );
            la.max(lb)
        };
        padded_indices(&a, row, len, &mut left_index);
        padded_indices(&b, row, len, &mut right_index);
        row_of.extend(std::iter::repeat_n(row as u32, len));
        lengths.push(len);
    }
    let xs = take(&a.values, &UInt32Array::from(left_index), None)?;
    let ys = take(&b.values, &UInt32Array::from(right_index), None)?;
    let row_of = UInt32Array::from(row_of);
    let out = evaluate(lambda, &[xs, ys], &row_of, row_of.len())?;
    let field = item_field(return_field)?;
    let out = cast(&out, field.data_type())?;
    let nulls = NullBuffer::union(a.nulls.as_ref(), b.nulls.as_ref());
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        out,
        nulls,
    )?))
}

/// A map column's parts, offsets from zero and keys and values cut to match.
struct MapParts {
    rows: Rows,
    keys: ArrayRef,
    values: ArrayRef,
    nulls: Option<NullBuffer>,
}

impl MapParts {
    fn of(array: &ArrayRef) -> Result<MapParts> {
        let Some(map) = array.as_map_opt() else {
            return exec_err!("expected a map column, got {}", array.data_type());
        };
        let (rows, start, len) = Rows::of(map.offsets());
        Ok(MapParts {
            rows,
            keys: map.keys().slice(start, len),
            values: map.values().slice(start, len),
            nulls: map.nulls().cloned(),
        })
    }

    fn row_of_entries(&self) -> UInt32Array {
        self.rows.row_of_each()
    }
}

fn build_map(
    return_field: &FieldRef,
    offsets: OffsetBuffer<i32>,
    keys: ArrayRef,
    values: ArrayRef,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let DataType::Map(entries, sorted) = return_field.data_type() else {
        return exec_err!("expected to return a map, not {}", return_field.data_type());
    };
    let DataType::Struct(fields) = entries.data_type() else {
        return exec_err!("a map's entries are a struct");
    };
    if keys.null_count() > 0 {
        return exec_err!("[NULL_MAP_KEY] Cannot use null as map key.");
    }
    let keys = cast(&keys, fields[0].data_type())?;
    let values = cast(&values, fields[1].data_type())?;
    let entries_array = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    Ok(Arc::new(MapArray::try_new(
        entries.clone(),
        offsets,
        entries_array,
        nulls,
        *sorted,
    )?))
}

fn map_filter(map: &ArrayRef, lambda: &LambdaArgument) -> Result<ArrayRef> {
    let parts = MapParts::of(map)?;
    let keep = predicate(evaluate(
        lambda,
        &[parts.keys.clone(), parts.values.clone()],
        &parts.row_of_entries(),
        parts.keys.len(),
    )?)?;
    let (keep, offsets) = parts.rows.kept(&keep);
    let field = Arc::new(Field::new("map", map.data_type().clone(), true));
    build_map(
        &field,
        offsets,
        filter(&parts.keys, &keep)?,
        filter(&parts.values, &keep)?,
        parts.nulls,
    )
}

fn transform_map(
    map: &ArrayRef,
    lambda: &LambdaArgument,
    keys: bool,
    return_field: &FieldRef,
) -> Result<ArrayRef> {
    let parts = MapParts::of(map)?;
    let out = evaluate(
        lambda,
        &[parts.keys.clone(), parts.values.clone()],
        &parts.row_of_entries(),
        parts.keys.len(),
    )?;
    let (new_keys, new_values) = if keys {
        (out, parts.values.clone())
    } else {
        (parts.keys.clone(), out)
    };
    if keys {
        reject_duplicate_keys(&new_keys, &parts.rows.offsets)?;
    }
    build_map(
        return_field,
        parts.rows.offsets,
        new_keys,
        new_values,
        parts.nulls,
    )
}

fn reject_duplicate_keys(keys: &ArrayRef, offsets: &OffsetBuffer<i32>) -> Result<()> {
    let converter = RowConverter::new(vec![SortField::new(keys.data_type().clone())])?;
    let converted = converter.convert_columns(std::slice::from_ref(keys))?;
    for window in offsets.windows(2) {
        let (start, end) = (window[0] as usize, window[1] as usize);
        let mut seen = std::collections::HashSet::new();
        for i in start..end {
            if !seen.insert(converted.row(i)) {
                let shown = arrow::util::display::array_value_to_string(keys, i)?;
                return exec_err!(
                    "[DUPLICATE_MAP_KEY] Duplicate map key {shown} was found, please check the \
                     input data."
                );
            }
        }
    }
    Ok(())
}

fn map_zip_with(
    left: &ArrayRef,
    right: &ArrayRef,
    lambda: &LambdaArgument,
    return_field: &FieldRef,
) -> Result<ArrayRef> {
    let (a, b) = (MapParts::of(left)?, MapParts::of(right)?);
    let key_type = a.keys.data_type().clone();
    let right_keys = cast(&b.keys, &key_type)?;
    let converter = RowConverter::new(vec![SortField::new(key_type)])?;
    let left_rows = converter.convert_columns(std::slice::from_ref(&a.keys))?;
    let right_rows = converter.convert_columns(std::slice::from_ref(&right_keys))?;
    // Every key of the left map in its order, then the right map's other keys.
    let mut key_pick = Vec::new();
    let mut left_index = Vec::new();
    let mut right_index = Vec::new();
    let mut lengths = Vec::with_capacity(a.rows.count());
    let mut row_of = Vec::new();
    for row in 0..a.rows.count() {
        let before = key_pick.len();
        let (ls, le) = a.rows.range(row);
        let (rs, re) = b.rows.range(row);
        for i in ls..le {
            key_pick.push((0, i));
            left_index.push(Some(i as u32));
            let matched = (rs..re).find(|j| right_rows.row(*j) == left_rows.row(i));
            right_index.push(matched.map(|j| j as u32));
        }
        for j in rs..re {
            if !(ls..le).any(|i| left_rows.row(i) == right_rows.row(j)) {
                key_pick.push((1, j));
                left_index.push(None);
                right_index.push(Some(j as u32));
            }
        }
        let len = key_pick.len() - before;
        row_of.extend(std::iter::repeat_n(row as u32, len));
        lengths.push(len);
    }
    let keys = if key_pick.is_empty() {
        new_null_array(a.keys.data_type(), 0)
    } else {
        interleave(&[a.keys.as_ref(), right_keys.as_ref()], &key_pick)?
    };
    let v1 = take(&a.values, &UInt32Array::from(left_index), None)?;
    let v2 = take(&b.values, &UInt32Array::from(right_index), None)?;
    let row_of = UInt32Array::from(row_of);
    let out = evaluate(lambda, &[keys.clone(), v1, v2], &row_of, row_of.len())?;
    let nulls = NullBuffer::union(a.nulls.as_ref(), b.nulls.as_ref());
    build_map(
        return_field,
        OffsetBuffer::from_lengths(lengths),
        keys,
        out,
        nulls,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parts_cut_sliced_lists_to_their_rows() {
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<
            arrow::datatypes::Int32Type,
            _,
            _,
        >(vec![
            Some(vec![Some(1), Some(2)]),
            None,
            Some(vec![Some(3)]),
            Some(vec![]),
        ]));
        let sliced = list.slice(2, 2);
        let parts = ListParts::of(&sliced).unwrap();
        assert_eq!(parts.rows.count(), 2);
        assert_eq!(parts.values.len(), 1);
        assert_eq!(parts.row_of_values().values().to_vec(), vec![0]);
        assert_eq!(parts.index_of_values().values().to_vec(), vec![0]);
    }
}
