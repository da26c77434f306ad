//! `df.show()`: the table Spark prints, computed on the server as Spark does.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use futures::TryStreamExt;
use spark_connect_proto::ShowString;

use ember_functions::variant;

use crate::error::ConnectResult;
use crate::relation::Planner;

/// How Spark shows values: `NULL`, timestamps with a space and without empty fractions.
pub fn format_options() -> FormatOptions<'static> {
    FormatOptions::default()
        .with_null("NULL")
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_time_format(Some("%H:%M:%S%.f"))
}

/// A time's fraction as Spark prints it: without trailing zeros (`14:30:00.5`).
fn trim_fraction(mut text: String) -> String {
    if let Some(dot) = text.rfind('.')
        && text[dot + 1..].bytes().all(|b| b.is_ascii_digit())
    {
        let kept = text.trim_end_matches('0').len();
        text.truncate(if kept == dot + 1 { dot } else { kept });
    }
    text
}

pub async fn show_string(
    planner: &Planner,
    input: LogicalPlan,
    show: &ShowString,
) -> ConnectResult<String> {
    let wanted = usize::try_from(show.num_rows).unwrap_or(0);
    let plan = LogicalPlanBuilder::from(input)
        .limit(0, Some(wanted + 1))?
        .build()?;
    let names: Vec<String> = plan
        .schema()
        .fields()
        .iter()
        .map(|f| crate::naming::client_name(f.name()).to_string())
        .collect();
    let stream = planner.executor.run(plan).await?;
    let batches: Vec<RecordBatch> = stream.try_collect().await?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let options = format_options();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| spark_cell(c.as_ref(), row, &options, &planner.time_zone))
                    .collect::<ConnectResult<Vec<_>>>()?,
            );
        }
    }
    let more = rows.len() > wanted;
    rows.truncate(wanted);
    let truncate = usize::try_from(show.truncate).unwrap_or(0);
    Ok(if show.vertical {
        vertical(&names, &rows, truncate, more, wanted)
    } else {
        grid(&names, &rows, truncate, more, wanted)
    })
}

/// One value as Spark shows it: arrays `[1, 2]`, structs `{1, a}` (values only), maps
/// `{k -> v}`, nulls `NULL`; other values as Arrow formats them with Spark's options.
fn spark_cell(
    array: &dyn Array,
    row: usize,
    options: &FormatOptions<'_>,
    zone: &str,
) -> ConnectResult<String> {
    if array.is_null(row) {
        return Ok("NULL".to_string());
    }
    // A variant shows as its JSON text.
    if variant::is_variant_type(array.data_type()) {
        return Ok(variant::variant_json(array, row, zone)?);
    }
    let joined = |values: &dyn Array| -> ConnectResult<String> {
        (0..values.len())
            .map(|i| spark_cell(values, i, options, zone))
            .collect::<ConnectResult<Vec<_>>>()
            .map(|v| v.join(", "))
    };
    match array.data_type() {
        DataType::List(_) => Ok(format!(
            "[{}]",
            joined(array.as_list::<i32>().value(row).as_ref())?
        )),
        DataType::LargeList(_) => Ok(format!(
            "[{}]",
            joined(array.as_list::<i64>().value(row).as_ref())?
        )),
        // Spark shows bytes as upper-case hex pairs in brackets: `[61 62 0A]`.
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes: &[u8] = match array.data_type() {
                DataType::Binary => array.as_binary::<i32>().value(row),
                DataType::LargeBinary => array.as_binary::<i64>().value(row),
                _ => array.as_binary_view().value(row),
            };
            let pairs: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
            Ok(format!("[{}]", pairs.join(" ")))
        }
        DataType::Struct(_) => {
            let fields = array.as_struct();
            let values = fields
                .columns()
                .iter()
                .map(|c| spark_cell(c.as_ref(), row, options, zone))
                .collect::<ConnectResult<Vec<_>>>()?;
            Ok(format!("{{{}}}", values.join(", ")))
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let pairs = (0..entries.len())
                .map(|i| {
                    Ok(format!(
                        "{} -> {}",
                        spark_cell(keys.as_ref(), i, options, zone)?,
                        spark_cell(values.as_ref(), i, options, zone)?
                    ))
                })
                .collect::<ConnectResult<Vec<_>>>()?;
            Ok(format!("{{{}}}", pairs.join(", ")))
        }
        // Spark shows floating point numbers as Java writes them: `1.0E10`, `Infinity`.
        DataType::Float64 => Ok(ember_functions::double_text(
            array.as_primitive::<Float64Type>().value(row),
        )),
        DataType::Float32 => Ok(ember_functions::float_text(
            array.as_primitive::<Float32Type>().value(row),
        )),
        DataType::Time32(_) | DataType::Time64(_) | DataType::Timestamp(_, _) => Ok(trim_fraction(
            ArrayFormatter::try_new(array, options)?
                .value(row)
                .to_string(),
        )),
        _ => Ok(ArrayFormatter::try_new(array, options)?
            .value(row)
            .to_string()),
    }
}

fn cut(cell: &str, truncate: usize) -> String {
    let chars = cell.chars().count();
    if truncate > 0 && chars > truncate {
        if truncate < 4 {
            cell.chars().take(truncate).collect()
        } else {
            let kept: String = cell.chars().take(truncate - 3).collect();
            format!("{kept}...")
        }
    } else {
        cell.to_string()
    }
}

fn footer(more: bool, wanted: usize) -> String {
    if more {
        let noun = if wanted == 1 { "row" } else { "rows" };
        format!("only showing top {wanted} {noun}\n")
    } else {
        String::new()
    }
}

fn grid(
    names: &[String],
    rows: &[Vec<String>],
    truncate: usize,
    more: bool,
    wanted: usize,
) -> String {
    // Spark truncates cells, never the column names.
    let header: Vec<String> = names.to_vec();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c, truncate)).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].chars().count())
                .chain(std::iter::once(header[i].chars().count()))
                .max()
                .unwrap_or(0)
                .max(3)
        })
        .collect();
    // Joined as Spark joins them, so a result without columns shows `++` and `||`.
    let line = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("+")
    );
    let render = |cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let pad = " ".repeat(w - c.chars().count());
                if truncate > 0 {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        format!("|{}|\n", cells.join("|"))
    };
    let mut out = line.clone();
    out.push_str(&render(&header));
    out.push_str(&line);
    for row in &body {
        out.push_str(&render(row));
    }
    out.push_str(&line);
    out.push_str(&footer(more, wanted));
    out
}

fn vertical(
    names: &[String],
    rows: &[Vec<String>],
    truncate: usize,
    more: bool,
    wanted: usize,
) -> String {
    let name_width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .flat_map(|r| r.iter().map(|c| cut(c, truncate).chars().count()))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let title = format!("-RECORD {i}");
        let total = name_width + value_width + 5;
        out.push_str(&title);
        out.push_str(&"-".repeat(total.saturating_sub(title.len())));
        out.push('\n');
        for (name, value) in names.iter().zip(row) {
            out.push_str(&format!(
                " {name:<name_width$} | {:<value_width$} \n",
                cut(value, truncate)
            ));
        }
    }
    if rows.is_empty() {
        out.push_str("(0 rows)\n");
    }
    out.push_str(&footer(more, wanted));
    out
}

#[cfg(test)]
mod tests {
    use super::trim_fraction;

    #[test]
    fn fractions_lose_trailing_zeros_and_empty_ones_their_dot() {
        assert_eq!(trim_fraction("14:30:00.500000000".into()), "14:30:00.5");
        assert_eq!(trim_fraction("14:30:00.000".into()), "14:30:00");
        assert_eq!(
            trim_fraction("2015-04-08 13:08:15".into()),
            "2015-04-08 13:08:15"
        );
        assert_eq!(trim_fraction("06:30:45.887".into()), "06:30:45.887");
    }
}
