"""The standards OEE needs where production records lack them: planned production time from the
SME's shift calendar, and the ideal cycle time per product and machine.

The shift calendar: each shift has a name, a machine ("" = every machine), its start and end
(an end before the start = the shift runs past midnight; equal = 24 hours), break minutes and the
weekdays it runs ("0123456", Monday = 0). A shift belongs to the day it starts on. A machine's
calendar is its own shifts plus the every-machine shifts whose name it has no shift of its own by
(a machine's own "주간" replaces the general "주간" for it).

Planned time, only where a record lacks it (a planned time the record gives is kept):

- a record naming its shift gets the planned time of that shift on its machine and day (length
  less breaks), when the machine's calendar runs that shift on that weekday;
- a record without a shift name (records per day) gets the sum of the machine's shifts that run
  that day.

Several records of one machine and shift (or, without shift names, of one machine and day) — a
product change within a shift, say — share that planned time; none gets all of it. What remains
after the planned time the group's own records give is split over the records lacking it, in
proportion to the time each occupied (run + downtime minutes) when every one of them gives its run
time, equally otherwise. A share is never below the record's own downtime (its run time would be
negative): such records are counted as ``over_calendar`` and their group's planned time then
exceeds the calendar's. Records with a shift name and records without one are grouped apart, so a
machine-day that mixes both counts the day's shifts for the latter regardless of the former.
Records for which the calendar has no shift (a weekday off, a shift name it does not know) get no
planned time: they are counted and shown by example, never given an invented one.

Ideal cycle time, only where a record lacks it: the product's on that machine, else the product's
for any machine (machine ""). Records with neither are counted and shown by example.

``planned_groups`` and ``cycle_lookup`` work on one row per group, so a caller holding millions of
records (a DuckDB or Spark query) computes the group sums itself and applies the same shares;
``fill_standards`` does it all on a DataFrame of records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time

import numpy as np
import pandas as pd

EXAMPLES = 5
GROUP_KEYS = ("machine", "day", "shift")


def _minutes_of(value: time | str) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    hours, _, minutes = str(value).strip().partition(":")
    return int(hours) * 60 + int(minutes[:2] or 0)


def shift_minutes(shift: Mapping) -> float:
    """The shift's planned production time: its length less its breaks (never below 0)."""
    start, end = _minutes_of(shift["starts"]), _minutes_of(shift["ends"])
    length = end - start if end > start else end - start + 24 * 60
    return float(max(length - float(shift.get("break_minutes") or 0), 0))


def _calendar(shifts: Sequence[Mapping], machines: Sequence[str]) -> pd.DataFrame:
    """machine, name, weekday, minutes: each machine's shifts on each weekday they run."""
    rows = []
    general = [s for s in shifts if not (s.get("machine") or "")]
    for machine in machines:
        own = [s for s in shifts if (s.get("machine") or "") == machine and machine]
        names = {s["name"] for s in own}
        for shift in own + [s for s in general if s["name"] not in names]:
            minutes = shift_minutes(shift)
            for day in sorted(set(str(shift.get("weekdays") or ""))):
                if day.isdigit() and int(day) < 7:
                    rows.append((machine, shift["name"], int(day), minutes))
    frame = pd.DataFrame(rows, columns=["machine", "name", "weekday", "minutes"])
    return frame.astype({"weekday": int, "minutes": float})


def calendar_minutes(shifts: Sequence[Mapping], keys: pd.DataFrame) -> np.ndarray:
    """Planned minutes for each row of ``keys`` (machine, day, shift; shift "" = the whole day's
    shifts), NaN where the calendar has no shift for it."""
    if keys.empty:
        return np.array([], dtype=float)
    work = pd.DataFrame(
        {
            "machine": keys["machine"].fillna("").astype(str).to_numpy(),
            "shift": keys["shift"].fillna("").astype(str).to_numpy(),
            "weekday": pd.to_datetime(keys["day"]).dt.weekday.to_numpy(),
        }
    )
    calendar = _calendar(shifts, sorted(work["machine"].unique()))
    named = work.merge(
        calendar.rename(columns={"name": "shift"}), how="left", on=["machine", "shift", "weekday"]
    )["minutes"].to_numpy()
    whole_day = calendar.groupby(["machine", "weekday"], as_index=False)["minutes"].sum()
    daily = work.merge(whole_day, how="left", on=["machine", "weekday"])["minutes"].to_numpy()
    return np.where(work["shift"].to_numpy() == "", daily, named).astype(float)


def planned_groups(groups: pd.DataFrame, shifts: Sequence[Mapping]) -> pd.DataFrame:
    """Per group of records (columns machine, day, shift, ``given`` planned minutes, ``n_missing``
    records lacking them, ``n_timed`` of those giving their run time, ``occupied`` run + downtime
    minutes of those): the calendar's minutes, the ``remaining`` to share and whether shares follow
    occupied time (``by_time``). A record's share is then ``remaining × occupied ÷ group occupied``
    (by time) or ``remaining ÷ n_missing``, raised to its downtime — see ``share``."""
    out = groups.copy()
    out["calendar"] = calendar_minutes(shifts, out)
    out["remaining"] = (out["calendar"] - out["given"].fillna(0)).clip(lower=0)
    out["by_time"] = (out["n_timed"] == out["n_missing"]) & (out["occupied"] > 0)
    return out


def share(
    group: pd.DataFrame, occupied: pd.Series, downtime: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Each record's planned minutes from its group's row (aligned with the records) and whether
    its share had to be raised to its downtime."""
    even = group["remaining"] / group["n_missing"].where(group["n_missing"] > 0)
    timed = group["remaining"] * occupied / group["occupied"].where(group["occupied"] > 0)
    planned = timed.where(group["by_time"].astype(bool), even)
    floor = downtime.fillna(0)
    raised = planned.notna() & (planned < floor - 1e-9)
    return planned.where(~raised, floor), raised


def cycle_lookup(pairs: pd.DataFrame, cycle_times: Sequence[Mapping]) -> np.ndarray:
    """The ideal cycle seconds for each (product, machine) row: that machine's, else the
    product's for any machine, else NaN."""
    if pairs.empty:
        return np.array([], dtype=float)
    table = (
        pd.DataFrame(
            [
                (str(c["product"]), str(c.get("machine") or ""), float(c["ideal_cycle_seconds"]))
                for c in cycle_times
            ],
            columns=["product", "machine", "seconds"],
        )
        .astype({"seconds": float})
        .drop_duplicates(["product", "machine"], keep="last")
    )
    work = pd.DataFrame(
        {
            "product": pairs["product"].fillna("").astype(str).to_numpy(),
            "machine": pairs["machine"].fillna("").astype(str).to_numpy(),
        }
    )
    exact = work.merge(table, how="left", on=["product", "machine"])["seconds"]
    general = table.loc[table["machine"] == "", ["product", "seconds"]]
    fallback = work[["product"]].merge(general, how="left", on="product")["seconds"]
    return exact.fillna(fallback).to_numpy(dtype=float)


def _examples(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    head = frame.head(EXAMPLES)
    return [
        {
            c: (str(v)[:10] if c == "day" else str(v or ""))
            for c, v in zip(columns, row, strict=True)
        }
        for row in head[list(columns)].itertuples(index=False)
    ]


def report(
    groups: pd.DataFrame, pairs: pd.DataFrame, *, over_calendar: int, n_records: int
) -> dict:
    """What lacked a standard and what was done: ``groups`` from ``planned_groups`` (with
    ``n_records``), ``pairs`` = product, machine, ``n_missing`` and the looked-up ``seconds``."""
    lacking = groups.loc[groups["n_missing"] > 0]
    unplanned = lacking.loc[lacking["calendar"].isna()].sort_values(list(GROUP_KEYS))
    pairs = pairs.loc[pairs["n_missing"] > 0]
    no_cycle = pairs.loc[pairs["seconds"].isna()].sort_values(["product", "machine"])
    n_lacking_planned = int(lacking["n_missing"].sum())
    n_lacking_cycle = int(pairs["n_missing"].sum())
    return {
        "records": int(n_records),
        "planned_minutes": {
            "lacking": n_lacking_planned,
            "from_calendar": n_lacking_planned - int(unplanned["n_missing"].sum()),
            "missing": int(unplanned["n_missing"].sum()),
            "over_calendar": int(over_calendar),
            "examples": _examples(unplanned, GROUP_KEYS),
        },
        "ideal_cycle_seconds": {
            "lacking": n_lacking_cycle,
            "from_cycle_times": n_lacking_cycle - int(no_cycle["n_missing"].sum()),
            "missing": int(no_cycle["n_missing"].sum()),
            "examples": _examples(no_cycle, ("product", "machine")),
        },
        "excluded": None,  # set by the caller: records left out for lack of a standard
    }


def _column(records: pd.DataFrame, name: str, default) -> pd.Series:
    if name in records:
        return records[name]
    return pd.Series(default, index=records.index)


def fill_standards(
    records: pd.DataFrame, shifts: Sequence[Mapping], cycle_times: Sequence[Mapping]
) -> tuple[pd.DataFrame, dict]:
    """``records`` (machine, day, product; optionally shift, planned_minutes, run_minutes,
    downtime_minutes, ideal_cycle_seconds) with planned minutes and ideal cycle seconds filled
    where lacking by the rules above, and the report of what lacked them. Records still lacking
    a standard keep NaN there; ``report["excluded"]`` counts them."""
    out = records.copy()
    out["shift"] = _column(out, "shift", "").fillna("").astype(str)
    out["machine"] = out["machine"].fillna("").astype(str)
    planned = pd.to_numeric(_column(out, "planned_minutes", np.nan), errors="coerce")
    run = pd.to_numeric(_column(out, "run_minutes", np.nan), errors="coerce")
    downtime = pd.to_numeric(_column(out, "downtime_minutes", np.nan), errors="coerce")
    missing = planned.isna()
    keys = pd.DataFrame(
        {
            "machine": out["machine"],
            "day": pd.to_datetime(out["day"]).dt.strftime("%Y-%m-%d"),
            "shift": out["shift"],
        }
    )
    occupied = (run + downtime.fillna(0)).where(missing & run.notna())
    stats = keys.assign(
        given=planned,
        n_missing=missing.astype(int),
        n_timed=(missing & run.notna()).astype(int),
        occupied=occupied,
    )
    groups = stats.groupby(list(GROUP_KEYS), as_index=False, sort=True).agg(
        given=("given", "sum"),
        n_missing=("n_missing", "sum"),
        n_timed=("n_timed", "sum"),
        occupied=("occupied", "sum"),
    )
    groups = planned_groups(groups, shifts)
    aligned = keys.merge(groups, how="left", on=list(GROUP_KEYS))
    aligned.index = out.index
    shares, raised = share(aligned, occupied, downtime)
    out["planned_minutes"] = planned.where(~missing, shares)
    over = int((raised & missing).sum())

    ideal = pd.to_numeric(_column(out, "ideal_cycle_seconds", np.nan), errors="coerce")
    lacking = ideal.isna()
    products = out["product"].fillna("").astype(str)
    pairs = (
        pd.DataFrame({"product": products, "machine": out["machine"], "n_missing": lacking})
        .groupby(["product", "machine"], as_index=False, sort=True)["n_missing"]
        .sum()
    )
    pairs["seconds"] = cycle_lookup(pairs, cycle_times)
    looked_up = pd.DataFrame({"product": products, "machine": out["machine"]}).merge(
        pairs, how="left", on=["product", "machine"]
    )["seconds"]
    out["ideal_cycle_seconds"] = ideal.where(~lacking, looked_up.to_numpy())

    found = report(groups, pairs, over_calendar=over, n_records=len(out))
    found["excluded"] = int(
        (out["planned_minutes"].isna() | out["ideal_cycle_seconds"].isna()).sum()
    )
    return out, found
