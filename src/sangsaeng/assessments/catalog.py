"""The instruments this installation offers: shipped files plus files an administrator installed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sangsaeng.assessments.engine.instrument import (
    N_,
    Instrument,
    InstrumentError,
    Problem,
    load_instrument,
    parse_instrument,
)

SHIPPED_DIR = Path(__file__).parent / "instruments"
_installed_dirs: list[Path] = []


def configure(installed_dir: Path | None) -> None:
    """Also offer the ``*.yaml`` files in ``installed_dir`` (``<data dir>/instruments``)."""
    _installed_dirs.clear()
    if installed_dir is not None:
        _installed_dirs.append(installed_dir)
    _load_all.cache_clear()


def version_key(version: str) -> tuple:
    """Natural order: "2026.10" after "2026.9"."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


@dataclass(frozen=True)
class Catalog:
    by_version: dict[tuple[str, str], Instrument]
    origin: dict[tuple[str, str], str]  # "shipped" or "installed"
    problems: tuple[Problem, ...]  # installed files that failed to load are skipped, not fatal

    def latest(self) -> list[Instrument]:
        best: dict[str, Instrument] = {}
        for (instrument_id, version), instrument in self.by_version.items():
            current = best.get(instrument_id)
            if current is None or version_key(version) > version_key(current.version):
                best[instrument_id] = instrument
        return sorted(best.values(), key=lambda i: i.id)


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


@lru_cache(maxsize=1)
def _load_all() -> Catalog:
    by_version: dict[tuple[str, str], Instrument] = {}
    origin: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    sources = [(p, "shipped") for p in _files(SHIPPED_DIR)]
    sources += [(p, "installed") for d in _installed_dirs for p in _files(d)]
    for path, where in sources:
        try:
            instrument = load_instrument(path)
        except InstrumentError as error:
            if where == "shipped":
                raise  # a broken shipped file is a bug of ours, caught by the test suite
            problems.extend(error.problems)
            continue
        key = (instrument.id, instrument.version)
        if key in by_version and by_version[key].sha256 != instrument.sha256:
            problems.append(
                Problem(
                    str(path),
                    1,
                    N_("instrument {id} version {version} is already defined"),
                    {"id": instrument.id, "version": instrument.version},
                )
            )
            continue
        by_version.setdefault(key, instrument)
        origin.setdefault(key, where)
    return Catalog(by_version, origin, tuple(problems))


def catalog() -> Catalog:
    return _load_all()


def find(instrument_id: str, version: str | None = None) -> Instrument | None:
    loaded = catalog()
    if version is not None:
        return loaded.by_version.get((instrument_id, version))
    return next((i for i in loaded.latest() if i.id == instrument_id), None)


@lru_cache(maxsize=64)
def parse_stored(source: str, name: str) -> Instrument:
    """An instrument from the text stored when it was first answered (cached by content)."""
    return parse_instrument(source, name)


def validate_files(paths: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for path in paths:
        if not path.is_file():
            problems.append(Problem(str(path), 0, N_("file not found")))
            continue
        try:
            load_instrument(path)
        except InstrumentError as error:
            problems.extend(error.problems)
    return problems
