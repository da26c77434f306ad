"""The differential test's cases: typed tables and the expressions evaluated over them.

Both sides build the same two tables with `createDataFrame` and an explicit schema: `t` holds
ordinary values and NULLs, `e` holds edge values (type bounds, NaN and infinities, negative
zero, far dates, non-ASCII text). Each case is one expression over one table, given a stable
id so the checked-in answers and the list of known differences can name it. The cases are
generated from small tables of Spark functions and operators crossed with the columns whose
types they accept, so adding a function or a column adds its cases everywhere.

Apache Spark computes the answers (`record.py`, once, with a JVM); Ember is compared against
them (`compare.py`, in CI, without one).
"""

import datetime
import decimal
import itertools

D = decimal.Decimal

SCHEMA = (
    "b boolean, i8 tinyint, i16 smallint, i32 int, i64 bigint, f32 float, f64 double, "
    "d decimal(10,2), dw decimal(38,10), s string, n string, bin binary, dt date, "
    "ts timestamp, arr array<int>, m map<string,int>, st struct<x:int,y:string>"
)

# The session settings both sides run with. A zone with daylight saving makes the time
# functions show whether they read the session zone.
SESSION_ZONE = "America/Los_Angeles"

TS = datetime.datetime
DT = datetime.date

TABLES = {
    "t": [
        (True, 1, 10, 100, 1000, 1.5, 2.25, D("12.34"), D("1234.5678901234"), "Hello",
         "42", b"ab", DT(2024, 2, 29), TS(2024, 3, 10, 9, 30, 15, 123456), [1, 2, 3],
         {"a": 1}, (1, "x")),
        (False, -3, -30, -300, -3000, -0.5, -7.75, D("-0.01"), D("-1"), "ß straße ",
         " 7.5 ", b"", DT(1999, 12, 31), TS(1970, 1, 1), [], {}, (None, "y")),
        (None,) * 17,
        (None, 0, 0, 0, 0, 0.0, 0.0, D("0"), D("0"), "", "abc", b"\x00\xff",
         DT(2000, 1, 1), TS(2021, 11, 7, 9, 30), [None, 5], {"k": None}, None),
        (True, 7, 7, 7, 7, 3.0, 1e10, D("99999999.99"), D("123456789012345678.5"),
         "  Spark SQL  ", "-12", b"xyz", DT(1900, 1, 1), TS(2038, 1, 19, 3, 14, 7),
         [2, 2, 1], {"z": 26, "b": 2}, (7, None)),
    ],
    "e": [
        (True, 127, 32767, 2147483647, 9223372036854775807, 3.4028235e38,
         1.7976931348623157e308, D("99999999.99"),
         D("9999999999999999999999999999.9999999999"), "ÀÉÎ ñ", "1e3", b"\x7f",
         DT(9999, 12, 31), TS(9999, 12, 31, 23, 59, 59, 999999), [2147483647], {"": 0},
         (2147483647, "")),
        (False, -128, -32768, -2147483648, -9223372036854775808, -3.4028235e38,
         -1.7976931348623157e308, D("-99999999.99"),
         D("-9999999999999999999999999999.9999999999"), "😀 emoji", "NaN", b"\x80",
         DT(1582, 10, 10), TS(1900, 1, 1, 0, 0, 0, 1), [-2147483648], {"k": -1},
         (-2147483648, None)),
        (None, -1, -1, -1, -1, float("nan"), float("nan"), D("0.01"), D("1E-10"), "\t",
         " ", b"\x00", DT(1970, 1, 1), TS(1969, 12, 31, 23, 59, 59, 999999), [0],
         {"n": None}, (0, "0")),
        (True, 0, 0, 0, 0, float("inf"), float("-inf"), D("-0.00"), D("0E-10"), "0",
         "+5", b"", DT(2000, 2, 29), TS(2000, 2, 29, 12), [None], {}, (None, None)),
        (False, 1, 1, 1, 1, -0.0, 5e-324, D("0.50"), D("-0.5"), "NULL", "2147483648",
         b"\xff\xfe", DT(1, 1, 1), TS(2262, 4, 11, 23, 47, 16, 854775), [], {"a": 1},
         (1, "a")),
    ],
}

INTEGRAL = ["i8", "i16", "i32", "i64"]
FRACTIONAL = ["f32", "f64"]
DECIMAL = ["d", "dw"]
NUMERIC = INTEGRAL + FRACTIONAL + DECIMAL
TEXT = ["s", "n"]

# Unary templates by the columns they take; `{0}` is the column.
UNARY = [
    (NUMERIC, [
        "abs({0})", "-{0}", "negative({0})", "positive({0})", "ceil({0})", "floor({0})",
        "round({0})", "round({0}, 1)", "round({0}, -1)", "bround({0}, 1)", "sign({0})",
        "sqrt({0})", "exp({0})", "ln({0})", "log10({0})", "log2({0})", "log(2, {0})",
        "cbrt({0})", "sin({0})", "cos({0})", "tan({0})", "atan({0})", "asin({0})",
        "tanh({0})", "degrees({0})", "radians({0})", "pow({0}, 2)", "{0} % 3",
        "pmod({0}, 3)", "{0} div 2", "{0} / 2", "{0} * 2", "{0} + 1", "{0} - 1",
        "{0} / 0", "{0} % 0", "{0} div 0", "isnan({0})", "format_number({0}, 2)",
        "greatest({0}, 0)", "least({0}, 0)", "try_add({0}, 1)", "try_multiply({0}, 2)",
        "try_divide({0}, 0)", "{0} > 0", "{0} = 1", "{0} <=> NULL", "{0} IN (1, 7)",
        "{0} BETWEEN -1 AND 10", "nvl({0}, -9)", "nullif({0}, 0)",
        "CASE WHEN {0} > 0 THEN 'pos' WHEN {0} < 0 THEN 'neg' ELSE 'zero' END",
        "ceil({0}, 1)", "floor({0}, -1)", "hex(cast({0} AS bigint))", "signum({0})",
        "width_bucket({0}, 0, 10, 5)", "isnull({0})", "typeof({0})",
    ]),
    (INTEGRAL, [
        "~{0}", "{0} & 5", "{0} | 5", "{0} ^ 5", "shiftleft({0}, 1)", "shiftright({0}, 1)",
        "shiftrightunsigned({0}, 1)", "bit_count({0})", "bin({0})", "hex({0})",
        "factorial({0})", "conv(cast({0} AS string), 10, 16)", "{0} * {0}", "{0} + {0}",
        "{0} - 1", "abs({0})", "-{0}", "try_subtract({0}, 1)", "bit_get({0}, 0)",
        "char({0})", "length(space({0} % 10))", "date_add(DATE '2000-01-01', {0})",
        "make_date(2000, 1, {0})", "timestamp_seconds({0})",
    ]),
    (FRACTIONAL, [
        "nanvl({0}, 0D)", "isnan({0})", "{0} = double('NaN')", "cast({0} AS int)",
        "cast({0} AS bigint)", "cast({0} AS decimal(10, 2))", "cast({0} AS string)",
        "{0} * 1e300", "round({0}, 2)", "format_number({0}, 0)",
    ]),
    (DECIMAL, [
        "{0} * {0}", "{0} + {0}", "{0} / 3", "{0} * 1.5", "{0} + 0.001", "cast({0} AS int)",
        "cast({0} AS double)", "cast({0} AS string)", "cast({0} AS decimal(4, 1))",
        "try_cast({0} AS decimal(4, 1))", "round({0}, 1)", "{0} % 0.3",
    ]),
    (TEXT, [
        "length({0})", "char_length({0})", "octet_length({0})", "bit_length({0})",
        "upper({0})", "lower({0})", "initcap({0})", "trim({0})", "ltrim({0})", "rtrim({0})",
        "reverse({0})", "ascii({0})", "substring({0}, 2, 3)", "substring({0}, -3)",
        "left({0}, 2)", "right({0}, 2)", "lpad({0}, 8, '*')", "rpad({0}, 8, '*')",
        "concat({0}, '!')", "concat_ws('-', {0}, {0})", "instr({0}, 'a')",
        "locate('a', {0})", "replace({0}, 'a', 'A')", "split({0}, ' ')",
        "regexp_replace({0}, '[aeiou]', '#')", "regexp_extract({0}, '([a-z]+)', 1)",
        "translate({0}, 'ae', 'AE')", "repeat({0}, 2)", "base64({0})", "md5({0})",
        "sha1({0})", "sha2({0}, 256)", "crc32({0})", "hex({0})", "{0} LIKE '%a%'",
        "{0} RLIKE '^[A-Z]'", "startswith({0}, 'H')", "endswith({0}, ' ')",
        "contains({0}, 'a')", "cast({0} AS int)", "cast({0} AS bigint)",
        "cast({0} AS double)", "cast({0} AS decimal(10, 2))", "cast({0} AS date)",
        "cast({0} AS timestamp)", "cast({0} AS boolean)", "try_cast({0} AS int)",
        "to_date({0})", "levenshtein({0}, 'Spark')", "soundex({0})",
        "format_string('[%s]', {0})", "split_part({0}, ' ', 1)", "btrim({0})",
        "encode({0}, 'UTF-8')", "{0} || 'x'", "{0} = 'Hello'", "{0} < 'b'", "{0} + 1",
        "{0} * 2", "nvl({0}, 'none')", "position('l', {0})", "overlay({0} PLACING '__' FROM 2)",
        "lcase({0})", "ucase({0})", "len({0})", "mask({0})", "unbase64({0})",
        "to_number({0}, '999')", "try_to_number({0}, '999')", "substring_index({0}, ' ', 1)",
        "find_in_set('b', {0})", "str_to_map(concat('a:', {0}))", "sentences({0})",
        "luhn_check({0})", "is_valid_utf8({0})", "collate({0}, 'UTF8_LCASE') = 'hello'",
        "typeof({0})",
    ]),
    (["bin"], [
        "length({0})", "hex({0})", "base64({0})", "md5({0})", "cast({0} AS string)",
        "{0} = X'6162'", "concat({0}, X'00')", "crc32({0})", "sha1({0})", "reverse({0})",
        "octet_length({0})", "bit_length({0})", "typeof({0})",
    ]),
    (["dt"], [
        "year({0})", "month({0})", "day({0})", "dayofweek({0})", "dayofyear({0})",
        "weekofyear({0})", "quarter({0})", "weekday({0})", "last_day({0})",
        "date_add({0}, 1)", "date_sub({0}, 1)", "{0} + 1", "{0} - 1",
        "datediff({0}, DATE '2000-01-01')", "add_months({0}, 1)", "add_months({0}, -13)",
        "months_between({0}, DATE '2000-01-01')", "trunc({0}, 'MM')", "trunc({0}, 'YEAR')",
        "date_trunc('month', {0})", "date_format({0}, 'yyyy-MM-dd EEE')",
        "date_format({0}, 'D w u')", "cast({0} AS string)", "cast({0} AS timestamp)",
        "unix_date({0})", "unix_timestamp({0})", "next_day({0}, 'Mon')",
        "extract(YEAR FROM {0})", "date_part('doy', {0})", "make_date(year({0}), 1, 1)",
        "{0} - DATE '2000-01-01'", "{0} > DATE '2000-01-01'", "{0} = '2000-01-01'",
        "{0} + INTERVAL 1 MONTH", "to_date(cast({0} AS string))", "dayname({0})",
        "monthname({0})", "typeof({0})",
    ]),
    (["ts"], [
        "hour({0})", "minute({0})", "second({0})", "year({0})", "cast({0} AS date)",
        "cast({0} AS string)", "date_format({0}, 'yyyy-MM-dd HH:mm:ss.SSS')",
        "date_format({0}, 'h:mm a z')", "unix_timestamp({0})", "unix_micros({0})",
        "unix_seconds({0})", "unix_millis({0})", "to_utc_timestamp({0}, 'Asia/Tokyo')",
        "from_utc_timestamp({0}, 'Asia/Tokyo')", "date_trunc('hour', {0})",
        "date_trunc('week', {0})", "{0} + INTERVAL 1 DAY", "{0} - INTERVAL '1:30' HOUR TO MINUTE",
        "timestampadd(HOUR, 1, {0})", "timestampdiff(MINUTE, TIMESTAMP '2000-01-01 00:00:00', {0})",
        "cast({0} AS bigint)", "cast({0} AS double)", "{0} > TIMESTAMP '2000-01-01 00:00:00'",
        "{0} = '1970-01-01 00:00:00'", "to_timestamp(cast({0} AS string))",
        "cast({0} AS timestamp_ntz)", "date_part('SECOND', {0})", "extract(DAYOFWEEK FROM {0})",
        "dayofmonth({0})", "last_day({0})", "months_between({0}, TIMESTAMP '2000-01-01 00:00:00')",
        "typeof({0})",
    ]),
    (["b"], [
        "NOT {0}", "{0} AND true", "{0} OR false", "{0} AND NULL", "cast({0} AS int)",
        "cast({0} AS string)", "if({0}, 'y', 'n')", "{0} = true", "{0} <=> NULL",
        "{0} IS TRUE", "{0} IS NOT FALSE", "typeof({0})",
    ]),
    (["arr"], [
        "size({0})", "array_contains({0}, 2)", "sort_array({0})", "sort_array({0}, false)",
        "array_max({0})", "array_min({0})", "array_distinct({0})", "reverse({0})",
        "element_at({0}, 1)", "element_at({0}, -1)", "try_element_at({0}, 5)", "{0}[0]",
        "{0}[5]", "array_join({0}, ',')", "array_join({0}, ',', 'null')",
        "array_position({0}, 2)", "array_remove({0}, 2)", "slice({0}, 1, 2)",
        "cardinality({0})", "array_union({0}, array(9))", "array_intersect({0}, array(1, 2))",
        "array_except({0}, array(1))", "arrays_overlap({0}, array(2))", "concat({0}, array(4))",
        "flatten(array({0}, {0}))", "transform({0}, x -> x + 1)", "filter({0}, x -> x > 1)",
        "aggregate({0}, 0, (acc, x) -> acc + x)", "exists({0}, x -> x = 2)",
        "forall({0}, x -> x > 0)", "array_append({0}, 0)", "array_prepend({0}, 0)",
        "array_compact({0})", "array_insert({0}, 1, 0)", "arrays_zip({0}, {0})",
        "zip_with({0}, {0}, (x, y) -> x * y)", "array_sort({0})", "shuffle(array()) = array()",
        "array_size({0})", "cast({0} AS string)", "cast({0} AS array<string>)",
        "to_json({0})", "{0} = array(1, 2, 3)", "typeof({0})",
    ]),
    (["m"], [
        "map_keys({0})", "map_values({0})", "size({0})", "element_at({0}, 'a')",
        "{0}['a']", "map_entries({0})", "map_contains_key({0}, 'a')", "cast({0} AS string)",
        "to_json({0})", "map_filter({0}, (k, v) -> v > 1)",
        "transform_values({0}, (k, v) -> v * 10)", "transform_keys({0}, (k, v) -> upper(k))",
        "map_concat({0}, map('q', 9))", "typeof({0})",
    ]),
    (["st"], [
        "{0}.x", "{0}.y", "to_json({0})", "struct({0}.y, {0}.x)", "cast({0} AS string)",
        "{0} IS NULL", "named_struct('k', {0}.x)", "typeof({0})",
    ]),
]

CAST_TARGETS = [
    "boolean", "tinyint", "smallint", "int", "bigint", "float", "double", "decimal(5,1)",
    "decimal(38,18)", "string", "binary", "date", "timestamp", "timestamp_ntz",
]
CAST_SOURCES = ["b", "i8", "i32", "i64", "f32", "f64", "d", "dw", "s", "n", "bin", "dt", "ts"]

# Operators and two-argument functions between columns of different types: Spark's implicit
# casts and type widening.
PAIR_COLUMNS = ["b", "i8", "i32", "i64", "f64", "d", "dw", "s", "n", "dt", "ts"]
PAIR_TEMPLATES = [
    "{0} + {1}", "{0} - {1}", "{0} * {1}", "{0} / {1}", "{0} % {1}", "{0} = {1}",
    "{0} < {1}", "{0} <=> {1}", "coalesce({0}, {1})", "greatest({0}, {1})",
    "CASE WHEN b THEN {0} ELSE {1} END", "{0} IN ({1})",
]

AGGREGATE_COLUMNS = ["b", "i8", "i32", "i64", "f32", "f64", "d", "dw", "s", "dt", "ts"]
AGGREGATES = [
    "sum({0})", "avg({0})", "min({0})", "max({0})", "count({0})", "count(DISTINCT {0})",
    "stddev({0})", "var_pop({0})", "try_sum({0})", "try_avg({0})", "bool_and({0})",
    "max_by(i32, {0})", "min_by(s, {0})", "count_if({0} IS NULL)", "median({0})",
    "mode({0})", "approx_count_distinct({0})", "sort_array(collect_set({0}))",
    "bit_or({0})", "product({0})", "kurtosis({0})", "skewness({0})", "first({0}, true) IS NULL",
]


def cases():
    """Every case as (id, table, SQL expression, is_aggregate), in a stable order."""
    out = []
    seen = set()

    def add(table, expr, aggregate=False):
        key = (table, expr)
        if key in seen:
            return
        seen.add(key)
        out.append((f"{table}:{expr}", table, expr, aggregate))

    for table in TABLES:
        for columns, templates in UNARY:
            for template in templates:
                for column in columns:
                    add(table, template.format(column))
        for column in CAST_SOURCES:
            for target in CAST_TARGETS:
                add(table, f"cast({column} AS {target})")
                add(table, f"try_cast({column} AS {target})")
        for left, right in itertools.permutations(PAIR_COLUMNS, 2):
            for template in PAIR_TEMPLATES:
                add(table, template.format(left, right))
        for template in AGGREGATES:
            for column in AGGREGATE_COLUMNS:
                add(table, template.format(column), aggregate=True)
    return out


def batches(selected, size):
    """Cases grouped by table and kind into queries of at most `size` expressions."""
    groups = {}
    for case in selected:
        groups.setdefault((case[1], case[3]), []).append(case)
    for (table, _aggregate), group in groups.items():
        for start in range(0, len(group), size):
            yield table, group[start:start + size]
