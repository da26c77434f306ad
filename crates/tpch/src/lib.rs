//! TPC-H for Ember: [`generate`] writes the eight tables as Parquet with the `tpchgen` crate,
//! [`query`] gives the 22 standard queries (from `examples/tpch`, with the specification's
//! validation parameters), [`compare_results`] checks an answer against a reference with
//! numeric tolerance, and [`bench`] times Ember's engine against plain DataFusion in one run.

pub mod bench;
mod compare;
mod datagen;

pub use compare::{compare_results, query_is_ordered};
pub use datagen::{GenerateError, TABLES, generate, is_complete, table_specs};

macro_rules! queries {
    ($($file:literal),* $(,)?) => {
        [$(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tpch/", $file))),*]
    };
}

static QUERIES: [&str; 22] = queries!(
    "q01.sql", "q02.sql", "q03.sql", "q04.sql", "q05.sql", "q06.sql", "q07.sql", "q08.sql",
    "q09.sql", "q10.sql", "q11.sql", "q12.sql", "q13.sql", "q14.sql", "q15.sql", "q16.sql",
    "q17.sql", "q18.sql", "q19.sql", "q20.sql", "q21.sql", "q22.sql",
);

/// The text of TPC-H query `number` (1 to 22).
pub fn query(number: usize) -> Option<&'static str> {
    number.checked_sub(1).and_then(|i| QUERIES.get(i)).copied()
}

/// Parses a query selection such as `1-22`, `3,5,18` or `1-5,9`.
pub fn parse_query_list(text: &str) -> Result<Vec<usize>, String> {
    let mut numbers = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let parse = |s: &str| {
            s.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=22).contains(n))
                .ok_or_else(|| format!("`{part}` is not a TPC-H query number or range (1-22)"))
        };
        let (low, high) = (parse(low)?, parse(high)?);
        if low > high {
            return Err(format!("`{part}`: the range is backwards"));
        }
        numbers.extend(low..=high);
    }
    if numbers.is_empty() {
        return Err("no queries selected".into());
    }
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_is_present() {
        for n in 1..=22 {
            let text = query(n).unwrap();
            assert!(
                text.contains(&format!("TPC-H Q{n}:")),
                "q{n:02}.sql is not Q{n}"
            );
        }
        assert!(query(0).is_none() && query(23).is_none());
    }

    #[test]
    fn query_lists() {
        assert_eq!(parse_query_list("1-3,18").unwrap(), vec![1, 2, 3, 18]);
        assert!(parse_query_list("0").is_err());
        assert!(parse_query_list("5-2").is_err());
        assert!(parse_query_list("").is_err());
    }
}
