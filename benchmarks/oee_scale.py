"""OEE at scale: 50 million production events in one Parquet file (200 machines on 20 lines, two
shifts, 30 products, a year of days, eight downtime reasons), OEE by machine and day.

Timed, each in a fresh process (so its peak RSS is its own), on 2 DuckDB threads:

- ``product``: ``factory.oee_data.oee_from_parquet`` — the function under ``dataset_oee`` that
  takes the Parquet path and the SME's standards: the records view, the probe for missing
  standards, the main aggregation, then the rows (six big losses included), the total, the daily
  trend and the ranked downtime reasons;
- ``hand``: one hand-written DuckDB query giving the same per machine-day figures (the loss kinds
  written out as ``IN`` lists of the reasons the generator uses);
- ``bare``: a hand-written query of the four ratios only, no losses: the least work any OEE by
  machine-day can do (``ratio_vs_bare``).

The file holds every standard (planned and ideal time on each event), so both do the same work;
filling standards from the calendar adds one grouped scan, measured separately on a smaller file
(``product_filled_*``: a tenth of the events lack planned time). Figures: seconds (``*_s``: the
best of two calls after a first, cold one, ``*_cold_s``), rows per second, ``ratio`` (product ÷
hand; target ≤ 1.5), peak RSS in MB, and the largest difference in OEE between the two.

    .venv/bin/python benchmarks/oee_scale.py            # 50,000,000 events
    .venv/bin/python benchmarks/oee_scale.py --quick    # 2,000,000 events, under a minute

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1_000_000
MACHINES = [f"M{i:03d}" for i in range(200)]
LINES = [f"L{i:02d}" for i in range(20)]
PRODUCTS = [f"P{i:02d}" for i in range(30)]
SHIFTS = ["주간", "야간"]
BREAKDOWN = ["설비 고장", "모터 고장", "센서 파손"]
SETUP = ["금형 교체", "품종 셋업", "치공구 조정"]
OTHER = ["자재 대기", "작업자 부재"]
REASONS = BREAKDOWN + SETUP + OTHER
DAYS = 365
FIRST_DAY = np.datetime64("2025-01-01", "ns")
CALENDAR = [
    {"name": "주간", "machine": "", "starts": "08:00", "ends": "17:00", "break_minutes": 60,
     "weekdays": "0123456"},
    {"name": "야간", "machine": "", "starts": "20:00", "ends": "05:00", "break_minutes": 60,
     "weekdays": "0123456"},
]  # fmt: skip


def _dictionary(indices: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(values))


def chunk(n: int, rng: np.random.Generator, lacking: float = 0.0) -> pa.Table:
    """``n`` events; ``lacking``: the share without planned time (and without ideal time)."""
    machine = rng.integers(0, len(MACHINES), n)
    product = rng.integers(0, len(PRODUCTS), n)
    ideal = 20.0 + 2.0 * product  # seconds, by product
    planned = rng.integers(20, 121, n).astype(float)
    stopped = rng.random(n) < 0.6
    downtime = np.where(stopped, np.round(planned * rng.uniform(0, 0.25, n)), 0.0)
    reason = np.where(stopped, rng.integers(0, len(REASONS), n), -1)
    minor = np.round(rng.uniform(0, 5, n), 1)
    run = planned - downtime
    total = np.floor(np.maximum(run - minor, 0) * 60 / ideal * rng.uniform(0.7, 1.0, n))
    bad = rng.binomial(total.astype(np.int64), 0.03).astype(float)
    startup = np.minimum(rng.integers(0, 3, n), bad).astype(float)
    day = FIRST_DAY + rng.integers(0, DAYS, n).astype("timedelta64[D]")
    gaps = rng.random(n) < lacking
    return pa.table(
        {
            "date": pa.array(day.astype("datetime64[ns]")),
            "shift": _dictionary(rng.integers(0, 2, n), SHIFTS),
            "line": _dictionary(machine // 10, LINES),
            "machine": _dictionary(machine, MACHINES),
            "product": _dictionary(product, PRODUCTS),
            "total_count": total,
            "good_count": total - bad,
            "defect_count": bad,
            "run_minutes": run,
            "downtime_minutes": downtime,
            "downtime_reason": pa.DictionaryArray.from_arrays(
                pa.array(np.where(reason < 0, 0, reason), pa.int32(), mask=reason < 0),
                pa.array(REASONS),
            ),
            "planned_minutes": pa.array(planned, mask=gaps),
            "minor_stop_minutes": minor,
            "startup_rejects": startup,
            "ideal_cycle_seconds": pa.array(ideal, mask=gaps),
        }
    )


def write(path: Path, n: int, seed: int, lacking: float = 0.0) -> float:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    writer = None
    for done in range(0, n, CHUNK):
        table = chunk(min(CHUNK, n - done), rng, lacking)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=CHUNK)
    writer.close()
    return time.perf_counter() - started


def hand_sql(path: Path) -> str:
    def listed(names: list[str]) -> str:
        return ", ".join(f"'{n}'" for n in names)

    return f"""
SELECT machine, CAST(date AS DATE) AS day,
       sum(planned_minutes) AS planned, sum(planned_minutes - downtime_minutes) AS run,
       sum(ideal_cycle_seconds / 60 * total_count) AS ideal_total,
       sum(ideal_cycle_seconds / 60 * good_count) AS ideal_good,
       sum(total_count) AS total, sum(good_count) AS good,
       sum(CASE WHEN downtime_reason IN ({listed(BREAKDOWN)}) THEN downtime_minutes ELSE 0 END)
           AS breakdown,
       sum(CASE WHEN downtime_reason IN ({listed(SETUP)}) THEN downtime_minutes ELSE 0 END)
           AS setup,
       sum(CASE WHEN downtime_reason IN ({listed(BREAKDOWN + SETUP)}) THEN 0
                ELSE downtime_minutes END) AS other_stops,
       sum(minor_stop_minutes) AS minor_stops,
       sum(greatest(planned_minutes - downtime_minutes
                    - ideal_cycle_seconds / 60 * total_count - minor_stop_minutes, 0))
           AS reduced_speed,
       sum(ideal_cycle_seconds / 60 * startup_rejects) AS startup_rejects,
       sum(ideal_cycle_seconds / 60 * (total_count - good_count - startup_rejects))
           AS process_defects,
       sum(planned_minutes - downtime_minutes) / sum(planned_minutes) AS availability,
       sum(ideal_cycle_seconds / 60 * total_count) / sum(planned_minutes - downtime_minutes)
           AS performance,
       sum(good_count) / sum(total_count) AS quality,
       sum(ideal_cycle_seconds / 60 * good_count) / sum(planned_minutes) AS oee
FROM read_parquet('{path}')
GROUP BY 1, 2
ORDER BY 1, 2"""


def bare_sql(path: Path) -> str:
    return f"""
SELECT machine, CAST(date AS DATE) AS day,
       sum(planned_minutes - downtime_minutes) / sum(planned_minutes) AS availability,
       sum(ideal_cycle_seconds / 60 * total_count) / sum(planned_minutes - downtime_minutes)
           AS performance,
       sum(good_count) / sum(total_count) AS quality,
       sum(ideal_cycle_seconds / 60 * good_count) / sum(planned_minutes) AS oee
FROM read_parquet('{path}')
GROUP BY 1, 2
ORDER BY 1, 2"""


def _duckdb(sql: str):
    import duckdb

    with duckdb.connect() as connection:
        connection.execute("SET threads TO 2")
        return connection.execute(sql).df()


def _hand(path: str):
    return _duckdb(hand_sql(Path(path)))


def _bare(path: str):
    return _duckdb(bare_sql(Path(path)))


def _product(path: str):
    from sangsaeng.factory.oee_data import oee_from_parquet

    cycles = [{"product": p, "machine": "", "ideal_cycle_seconds": 20.0 + 2.0 * i}
              for i, p in enumerate(PRODUCTS)]  # fmt: skip
    return oee_from_parquet(path, CALENDAR, cycles, by=("machine", "day"))


def timed(which: str, path: str, calls: int = 3) -> dict:
    """In a fresh process: a cold call and the best of the rest, peak RSS, and the OEE figures."""
    run = {"hand": _hand, "bare": _bare, "product": _product}[which]
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        result = run(path)
        seconds.append(time.perf_counter() - started)
    if which != "product":
        oee = {(r.machine, r.day.strftime("%Y-%m-%d")): r.oee for r in result.itertuples()}
        rows = len(result)
    else:
        oee = {(r["machine"], r["day"]): r["oee"] for r in result["rows"]}
        rows = len(result["rows"])
    return {
        "cold_s": seconds[0],
        "s": min(seconds[1:]) if len(seconds) > 1 else seconds[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": rows,
        "oee": oee,
        "missing": result.get("missing_standards") if isinstance(result, dict) else None,
    }


def in_fresh_process(which: str, path: Path, calls: int = 3) -> dict:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(timed, which, str(path), calls).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000,000 events")
    parser.add_argument("--events", type=int, help="how many events (overrides --quick)")
    parser.add_argument("--dir", type=Path, help="where to write the Parquet (default: a temp dir)")
    args = parser.parse_args()
    n = args.events or (2_000_000 if args.quick else 50_000_000)
    folder = Path(tempfile.mkdtemp(prefix="oee_scale_", dir=args.dir))
    try:
        path = folder / "events.parquet"
        write_s = write(path, n, seed=1)
        hand = in_fresh_process("hand", path)
        bare = in_fresh_process("bare", path)
        product = in_fresh_process("product", path)
        common = hand["oee"].keys() & product["oee"].keys()
        gap = max((abs(hand["oee"][k] - product["oee"][k]) for k in common), default=float("nan"))
        n_filled = max(n // 10, 100_000)
        filled_path = folder / "filled.parquet"
        write(filled_path, n_filled, seed=2, lacking=0.1)
        filled = in_fresh_process("product", filled_path, calls=2)
        figures = {
            "events": n,
            "parquet_mb": round(path.stat().st_size / 2**20, 1),
            "write_s": round(write_s, 2),
            "machine_days": product["rows"],
            "product_s": round(product["s"], 3),
            "product_cold_s": round(product["cold_s"], 3),
            "hand_s": round(hand["s"], 3),
            "hand_cold_s": round(hand["cold_s"], 3),
            "bare_s": round(bare["s"], 3),
            "ratio": round(product["s"] / hand["s"], 3),
            "target_ratio": 1.5,
            "ratio_vs_bare": round(product["s"] / bare["s"], 3),
            "product_rows_per_s": round(n / product["s"]),
            "hand_rows_per_s": round(n / hand["s"]),
            "product_peak_rss_mb": round(product["peak_rss_mb"], 1),
            "hand_peak_rss_mb": round(hand["peak_rss_mb"], 1),
            "bare_peak_rss_mb": round(bare["peak_rss_mb"], 1),
            "same_groups": hand["oee"].keys() == product["oee"].keys(),
            "max_oee_difference": gap,
            "max_oee_difference_bare": max(
                (abs(bare["oee"][k] - product["oee"][k]) for k in common), default=float("nan")
            ),
            "product_filled_events": n_filled,
            "product_filled_s": round(filled["s"], 3),
            "product_filled_rows_per_s": round(n_filled / filled["s"]),
            "product_filled_peak_rss_mb": round(filled["peak_rss_mb"], 1),
            "product_filled_from_calendar": filled["missing"]["planned_minutes"]["from_calendar"],
            "product_filled_excluded": filled["missing"]["excluded"],
            "duckdb_threads": 2,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
