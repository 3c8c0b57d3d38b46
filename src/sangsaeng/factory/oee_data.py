"""OEE of a stored production dataset, computed where the rows are: the sums run in DuckDB over
the dataset's Parquet (or on Spark when ``SANGSAENG_SPARK_MASTER`` is set), so tens of millions
of records never pass through pandas.

The figures are those of ``engine.oee.oee_table`` on the same records: ratios of sums, the six
big losses per record (reduced speed clipped at zero per record) summed per group. Where a record
lacks its planned time or ideal cycle time, the SME's standards fill it by the rules of
``engine.oee_standards``: the few group sums those rules need are read first, the engine turns
them into a small relation of shares (one row per machine, day and shift lacking planned time;
one per product and machine lacking a cycle time), and the main query joins it. Records that still
lack a standard are left out of the figures and counted.

The main query groups by the requested keys, the day, the downtime reason and whether the record
could be used; everything returned (rows, total, trend, downtime reasons) is re-added from that
small result.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.factory import standards
from sangsaeng.factory.datasets import dataset_path
from sangsaeng.factory.engine.oee import LOSSES, reason_kind
from sangsaeng.factory.engine.oee_standards import cycle_lookup, planned_groups, report
from sangsaeng.factory.models import FactoryDataset

GROUPINGS = ("machine", "line", "shift", "day", "product", "week", "month")
_FROM_DAY = {"week", "month"}  # derived from the day after the query
_TEXT = ("machine", "line", "shift", "product", "downtime_reason")
_NUMBERS = (
    "planned_minutes",
    "run_minutes",
    "downtime_minutes",
    "minor_stop_minutes",
    "startup_rejects",
    "total_count",
    "good_count",
    "ideal_cycle_seconds",
)
_ZERO_IF_MISSING = ("downtime_minutes", "minor_stop_minutes", "startup_rejects")
SUMS = (
    "n",
    "planned_minutes",
    "run_minutes",
    "ideal_total",
    "ideal_good",
    "total_count",
    "good_count",
    "downtime",
    "stops",
    "minor_stops",
    "reduced_speed",
    "startup_rejects",
    "process_defects",
    "over",
)


class DuckRunner:
    """SQL on DuckDB with the Parquet file as the view ``rows``; 2 threads (the app's share)."""

    def __init__(self, path: Path | str, threads: int = 2):
        self.connection = duckdb.connect()
        self.connection.execute(f"SET threads TO {int(threads)}")
        self.connection.read_parquet(str(path)).create_view("rows")

    day = "CAST(date AS DATE)"

    def columns(self) -> set[str]:
        return {row[0] for row in self.connection.execute("DESCRIBE rows").fetchall()}

    def view(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.connection.register(name, frame)

    def sql(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def close(self) -> None:
        self.connection.close()


def check_by(by: Sequence[str]) -> list[str]:
    keys = [str(k).strip() for k in by if str(k).strip()]
    unknown = [k for k in keys if k not in GROUPINGS]
    if unknown or len(set(keys)) != len(keys):
        message = Msg("Unknown grouping: {names}.", names=", ".join(unknown or keys))
        raise InvalidInput({"by": message}, message=message)
    return keys


def _day(value: date | str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput({field: Msg("Enter a date (YYYY-MM-DD).")}) from exc


def records_sql(
    columns: set[str], start: date | None, end: date | None, day: str = "CAST(date AS DATE)"
) -> str:
    """The records as the OEE needs them: text keys with "" for blanks, the day (``day``: the
    expression that reads it), numbers (the optional minutes and rejects 0 when blank), whatever
    the file lacks filled with NULL."""
    parts = []
    for name in _TEXT:
        source = f"CAST({name} AS STRING)" if name in columns else "CAST(NULL AS STRING)"
        parts.append(f"coalesce({source}, '') AS {name}")
    parts.append(f"{day} AS day")
    for name in _NUMBERS:
        source = f"CAST({name} AS DOUBLE)" if name in columns else "CAST(NULL AS DOUBLE)"
        parts.append(
            f"coalesce({source}, 0.0) AS {name}"
            if name in _ZERO_IF_MISSING
            else f"{source} AS {name}"
        )
    where = []
    if start:
        where.append(f"{day} >= DATE '{start.isoformat()}'")
    if end:
        where.append(f"{day} <= DATE '{end.isoformat()}'")
    clause = f"\nWHERE {' AND '.join(where)}" if where else ""
    return "SELECT " + ",\n       ".join(parts) + "\nFROM rows" + clause


PROBE_SQL = """SELECT count(*) AS n,
       sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) AS no_planned,
       sum(CASE WHEN ideal_cycle_seconds IS NULL THEN 1 ELSE 0 END) AS no_ideal
FROM records"""

GROUPS_SQL = """SELECT machine, day, shift,
       sum(planned_minutes) AS given,
       sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) AS n_missing,
       sum(CASE WHEN planned_minutes IS NULL AND run_minutes IS NOT NULL THEN 1 ELSE 0 END)
           AS n_timed,
       sum(CASE WHEN planned_minutes IS NULL AND run_minutes IS NOT NULL
                THEN run_minutes + downtime_minutes END) AS occupied
FROM records
GROUP BY machine, day, shift
HAVING sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) > 0"""

PAIRS_SQL = """SELECT product, machine, count(*) AS n_missing
FROM records
WHERE ideal_cycle_seconds IS NULL
GROUP BY product, machine"""


def main_sql(keys: Sequence[str], *, fill_planned: bool, fill_ideal: bool) -> str:
    """Per group of ``keys`` + day + downtime reason + usable: the sums of the engine's terms."""
    group = list(dict.fromkeys([*keys, "day"]))
    joins, planned, ideal = "", "r.planned_minutes", "r.ideal_cycle_seconds"
    if fill_planned:
        joins += (
            "\n  LEFT JOIN std_planned p"
            "\n    ON r.machine = p.machine AND r.day = p.day AND r.shift = p.shift"
        )
        planned = (
            "CASE WHEN p.by_time THEN p.remaining * (r.run_minutes + r.downtime_minutes)"
            " / p.occupied ELSE p.remaining / p.n_missing END"
        )
    if fill_ideal:
        joins += "\n  LEFT JOIN std_cycle c ON r.product = c.product AND r.machine = c.machine"
        ideal = "coalesce(r.ideal_cycle_seconds, c.seconds)"
    share = f"CASE WHEN r.planned_minutes IS NULL THEN {planned} END" if fill_planned else "NULL"
    inner = ", ".join(f"r.{k}" for k in group)
    outer = ", ".join(group)
    # the keys are names from GROUPINGS (check_by), never the user's text
    return f"""WITH joined AS (
  SELECT {inner}, r.downtime_reason AS reason, r.planned_minutes AS given, {share} AS share,
         r.downtime_minutes AS downtime, {ideal} / 60.0 AS ideal,
         r.total_count AS total, r.good_count AS good,
         r.minor_stop_minutes AS minor, r.startup_rejects AS startup
  FROM records r{joins}
), filled AS (
  SELECT *,
         CASE WHEN given IS NOT NULL THEN given
              WHEN share < downtime - 1e-9 THEN downtime
              ELSE share END AS planned,
         CASE WHEN given IS NULL AND share < downtime - 1e-9 THEN 1 ELSE 0 END AS raised
  FROM joined
), usable AS (
  SELECT *, (planned IS NOT NULL AND ideal IS NOT NULL) AS ok FROM filled
)
SELECT {outer}, reason, ok,
       count(*) AS n,
       sum(planned) AS planned_minutes,
       sum(planned - downtime) AS run_minutes,
       sum(ideal * total) AS ideal_total,
       sum(ideal * good) AS ideal_good,
       sum(total) AS total_count,
       sum(good) AS good_count,
       sum(downtime) AS downtime,
       sum(CASE WHEN downtime > 0 THEN 1 ELSE 0 END) AS stops,
       sum(minor) AS minor_stops,
       sum(CASE WHEN planned - downtime - ideal * total - minor > 0
                THEN planned - downtime - ideal * total - minor ELSE 0.0 END) AS reduced_speed,
       sum(ideal * startup) AS startup_rejects,
       sum(ideal * (total - good - startup)) AS process_defects,
       sum(raised) AS over
FROM usable
GROUP BY {outer}, reason, ok"""  # noqa: S608


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _rows(sums: pd.DataFrame, keys: Sequence[str]) -> list[dict]:
    """The engine's ``oee_table`` rows from the query's sums (usable records only)."""
    work = sums.loc[sums["ok"]].copy()
    kinds = work["reason"].map(reason_kind)
    for kind in ("breakdown", "setup", "other_stops"):
        work[f"loss_{kind}"] = np.where(kinds == kind, work["downtime"], 0.0)
    for loss in ("minor_stops", "reduced_speed", "startup_rejects", "process_defects"):
        work[f"loss_{loss}"] = work[loss]
    columns = [
        "planned_minutes",
        "run_minutes",
        "ideal_total",
        "ideal_good",
        "total_count",
        "good_count",
        *(f"loss_{k}" for k in LOSSES),
    ]
    if keys:
        grouped = work.groupby(list(keys), sort=True)[columns].sum()
    else:
        grouped = work[columns].sum().to_frame().T
    rows = []
    for index, g in grouped.iterrows():
        values = index if isinstance(index, tuple) else (index,)
        rows.append(
            {
                **(dict(zip(keys, values, strict=True)) if keys else {}),
                "planned_minutes": float(g["planned_minutes"]),
                "run_minutes": float(g["run_minutes"]),
                "total_count": float(g["total_count"]),
                "good_count": float(g["good_count"]),
                "availability": _ratio(g["run_minutes"], g["planned_minutes"]),
                "performance": _ratio(g["ideal_total"], g["run_minutes"]),
                "quality": _ratio(g["good_count"], g["total_count"]),
                "oee": _ratio(g["ideal_good"], g["planned_minutes"]),
                "losses": {k: float(g[f"loss_{k}"]) for k in LOSSES},
            }
        )
    return rows


def _downtime_reasons(sums: pd.DataFrame) -> list[dict]:
    stopped = sums.loc[sums["downtime"] > 0]
    if stopped.empty:
        return []
    totals = stopped.groupby("reason")[["downtime", "stops"]].sum()
    totals = totals.sort_values(["downtime", "stops"], ascending=False, kind="stable")
    whole = float(totals["downtime"].sum())
    return [
        {
            "reason": reason or "-",
            "kind": reason_kind(reason),
            "minutes": float(row["downtime"]),
            "stops": int(row["stops"]),
            "share": float(row["downtime"] / whole),
        }
        for reason, row in totals.iterrows()
    ]


def _with_periods(sums: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    days = pd.to_datetime(sums["day"])
    sums["day"] = days.dt.strftime("%Y-%m-%d")
    if "week" in keys:  # the ISO week, e.g. 2026-W10
        iso = days.dt.isocalendar()
        sums["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    if "month" in keys:
        sums["month"] = days.dt.strftime("%Y-%m")
    for key in SUMS:
        sums[key] = sums[key].astype(float)
    sums["ok"] = sums["ok"].astype(bool)
    return sums


def oee_from_parquet(
    path: Path | str,
    shifts: Sequence[dict],
    cycle_times: Sequence[dict],
    *,
    by: Sequence[str] = ("machine", "day"),
    start: date | str | None = None,
    end: date | str | None = None,
    runner=None,
) -> dict:
    """OEE of the production records in the Parquet file at ``path``, standards filled from
    ``shifts`` and ``cycle_times`` (as ``engine.oee_standards`` reads them). ``runner`` runs the
    SQL (DuckDB by default; ``spark.SparkSqlRunner`` on Spark)."""
    keys = check_by(by)
    start, end = _day(start, "start"), _day(end, "end")
    own = runner is None
    runner = runner or DuckRunner(path)
    try:
        return _compute(runner, shifts, cycle_times, keys, start, end)
    finally:
        if own:
            runner.close()


def _compute(runner, shifts, cycle_times, keys, start, end) -> dict:
    records = records_sql(runner.columns(), start, end, runner.day)
    runner.view("records", records)
    probe = runner.sql(PROBE_SQL).iloc[0]
    n_records = int(probe["n"] or 0)
    fill_planned, fill_ideal = bool(probe["no_planned"]), bool(probe["no_ideal"])
    queries = [f"CREATE VIEW records AS\n{records}"]
    empty_groups = pd.DataFrame(
        columns=["machine", "day", "shift", "given", "n_missing", "n_timed", "occupied"]
    )
    groups = planned_groups(empty_groups, shifts)
    pairs = pd.DataFrame({"product": [], "machine": [], "n_missing": [], "seconds": []})
    if fill_planned:
        groups = planned_groups(runner.sql(GROUPS_SQL), shifts)
        runner.register(
            "std_planned",
            pd.DataFrame(
                {
                    "machine": groups["machine"].astype(str),
                    "day": pd.to_datetime(groups["day"]).dt.date,
                    "shift": groups["shift"].astype(str),
                    "remaining": groups["remaining"].astype(float),
                    "n_missing": groups["n_missing"].astype(float),
                    "occupied": groups["occupied"].astype(float),
                    "by_time": groups["by_time"].astype(bool),
                }
            ),
        )
        queries.append(
            "-- std_planned: the shift calendar's minutes less the given ones, per machine, day "
            "and shift lacking planned time, from:\n" + GROUPS_SQL
        )
    if fill_ideal:
        pairs = runner.sql(PAIRS_SQL)
        pairs["seconds"] = cycle_lookup(pairs, cycle_times)
        runner.register(
            "std_cycle",
            pd.DataFrame(
                {
                    "product": pairs["product"].astype(str),
                    "machine": pairs["machine"].astype(str),
                    "seconds": pairs["seconds"].astype(float),
                }
            ),
        )
        queries.append(
            "-- std_cycle: the ideal cycle time of each product and machine lacking one, from:\n"
            + PAIRS_SQL
        )
    base = [k for k in keys if k not in _FROM_DAY]
    sql = main_sql(base, fill_planned=fill_planned, fill_ideal=fill_ideal)
    queries.append(sql)
    sums = _with_periods(runner.sql(sql), keys)
    missing = report(
        groups,
        pairs,
        over_calendar=int(sums["over"].sum()),
        n_records=n_records,
    )
    missing["excluded"] = int(sums.loc[~sums["ok"], "n"].sum())
    trend = [
        {k: r[k] for k in ("day", "oee", "availability", "performance", "quality")}
        for r in _rows(sums, ["day"])
    ]
    used = n_records - missing["excluded"]
    return {
        "rows": _rows(sums, keys),
        "total": _rows(sums, [])[0],
        "downtime_reasons": _downtime_reasons(sums),
        "trend": trend,
        "missing_standards": missing,
        "query": ";\n\n".join(queries) + ";",
        "method": gettext(
            "OEE = availability × performance × quality, as ratios of sums over {used} of "
            "{n} records; planned time from the shift calendar for {planned} records and ideal "
            "cycle time from the cycle times for {ideal} records where the data lacked them; "
            "{excluded} records lacking a standard are left out.",
            used=f"{used:,}",
            n=f"{n_records:,}",
            planned=f"{missing['planned_minutes']['from_calendar']:,}",
            ideal=f"{missing['ideal_cycle_seconds']['from_cycle_times']:,}",
            excluded=f"{missing['excluded']:,}",
        ),
    }


def dataset_oee(
    session: Session,
    dataset: FactoryDataset,
    *,
    by: Sequence[str] = ("machine", "day"),
    start: date | str | None = None,
    end: date | str | None = None,
) -> dict:
    """OEE of a production dataset the caller has authorised, with the SME's standards; on Spark
    when ``SANGSAENG_SPARK_MASTER`` is set, DuckDB otherwise."""
    from sangsaeng.settings import get_settings

    if dataset.kind != "production":
        raise InvalidInput({"dataset": Msg("OEE needs a dataset of production records.")})
    shifts = standards.calendar_of(session, dataset.organization_id)
    cycles = standards.cycle_times_of(session, dataset.organization_id)
    path = dataset_path(dataset)
    master = get_settings().spark_master
    if master:
        from sangsaeng.factory.spark import oee_on_spark

        return oee_on_spark(path, shifts, cycles, master, by=by, start=start, end=end)
    return oee_from_parquet(path, shifts, cycles, by=by, start=start, end=end)
