"""Evaluates cases on a Spark session, classic (Apache Spark itself) or Spark Connect (Ember):
the two share the DataFrame API, so one code path records the answers and checks them.

A case's outcome is its column's name and Spark type string and its rows as JSON-able values,
or the error condition the query raised. Cases run in batches of one SELECT each; when a batch
fails, its cases run one at a time, so one erroring expression does not hide its neighbours.
"""

import datetime
import decimal
import math

from cases import SCHEMA, SESSION_ZONE, TABLES, batches



def lost_session(error):
    """Whether the session stopped answering, so no later case can be evaluated."""
    return isinstance(error, ConnectionError) or type(error).__name__ == "Py4JNetworkError"


def encode(value):
    """A collected value as JSON, tagged where JSON alone would lose its type."""
    from pyspark.sql import Row

    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"float": "NaN"}
        return {"float": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"binary": bytes(value).hex()}
    if isinstance(value, datetime.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"interval_us": (value.days * 86400 + value.seconds) * 10**6 + value.microseconds}
    if isinstance(value, Row):
        return {"struct": [[name, encode(field)] for name, field in zip(value.__fields__, value)]}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"map": [[encode(k), encode(v)] for k, v in value.items()]}
    return {"other": repr(value)}


def condition(error):
    """The Spark error condition of an exception, or its Python type when it has none."""
    get = getattr(error, "getCondition", None) or getattr(error, "getErrorClass", None)
    found = get() if get else None
    return found or type(error).__name__


def prepare(spark):
    spark.conf.set("spark.sql.session.timeZone", SESSION_ZONE)
    for name, rows in TABLES.items():
        spark.createDataFrame(rows, SCHEMA).createOrReplaceTempView(name)


def _query(spark, table, exprs):
    df = spark.sql(f"SELECT {', '.join(exprs)} FROM {table}")
    fields = df.schema.fields
    rows = df.collect()
    return [
        {
            "name": field.name,
            "type": field.dataType.simpleString(),
            "rows": [encode(row[index]) for row in rows],
        }
        for index, field in enumerate(fields)
    ]


def evaluate(spark, selected, batch_size=25, progress=None):
    """Outcomes by case id for the selected cases."""
    outcomes = {}
    for table, batch in batches(selected, batch_size):
        exprs = [case[2] for case in batch]
        try:
            results = _query(spark, table, exprs)
            if len(results) != len(batch):
                raise ValueError(f"{len(results)} columns for {len(batch)} expressions")
            for case, result in zip(batch, results):
                outcomes[case[0]] = result
        except Exception:  # noqa: BLE001 - one at a time names which case failed
            for case in batch:
                try:
                    (result,) = _query(spark, table, [case[2]])
                    outcomes[case[0]] = result
                except Exception as error:  # noqa: BLE001 - the error is the outcome
                    if lost_session(error):
                        raise RuntimeError(f"the session died running {case[0]!r}") from error
                    outcomes[case[0]] = {"error": condition(error)}
        if progress:
            progress(len(outcomes))
    return outcomes
