"""The standards an SME keeps for OEE: its shift calendar (planned production time) and the ideal
cycle time of each product on each machine, entered one by one or imported from a table.

Only the SME's own members manage them (``datasets.owner_orgs``): another organization gets 403
when it names the SME and 404 for a shift or cycle time that is not its own. Every change is
audited. An import is all-or-nothing: a table with any bad row writes nothing and names each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.imports.mapping import Column, auto_map
from sangsaeng.core.imports.reader import Table
from sangsaeng.core.imports.service import ImportResult, RowError
from sangsaeng.core.policy import Actor
from sangsaeng.factory.datasets import owner_orgs
from sangsaeng.factory.engine.oee_standards import shift_minutes
from sangsaeng.factory.models import CycleTime, Shift

MAX_CYCLE_SECONDS = 24 * 3600
CYCLE_COLUMNS = (
    Column("product", "제품", "product", ("품목", "품번", "제품명", "item", "part"), True),
    Column("machine", "설비", "machine", ("기계", "설비명", "설비번호", "equipment")),
    Column(
        "ideal_cycle_seconds",
        "이상사이클타임(초)",
        "ideal cycle seconds",
        (
            "표준사이클타임(초)",
            "사이클타임(초)",
            "이상사이클타임",
            "표준사이클타임",
            "ideal_cycle_seconds",
            "cycle seconds",
        ),
        True,
    ),
)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# --- whose standards ----------


def standards_org(actor: Actor, organization_id: int | None = None) -> int:
    """The SME whose standards the actor manages: the one named, else its first; 403 otherwise."""
    mine = owner_orgs(actor)
    if organization_id is None:
        if not mine:
            raise Forbidden()
        return min(mine)
    if organization_id not in mine:
        raise Forbidden()
    return organization_id


def _own(session: Session, actor: Actor, model, object_id: int):
    found = session.get(model, object_id)
    if found is None or found.organization_id not in owner_orgs(actor):
        raise NotFound()  # another SME's calendar is not even shown to exist
    return found


def get_shift(session: Session, actor: Actor, shift_id: int) -> Shift:
    return _own(session, actor, Shift, shift_id)


def get_cycle_time(session: Session, actor: Actor, cycle_id: int) -> CycleTime:
    return _own(session, actor, CycleTime, cycle_id)


def _audit(session, actor, action: str, obj, details: dict) -> None:
    record(
        session,
        actor,
        action,
        object_type=obj.__tablename__.removesuffix("s"),
        object_id=obj.id,
        organization_id=obj.organization_id,
        details=details,
    )


# --- checking values ----------


def _text(values: Mapping, key: str, limit: int, message: Msg, *, required: bool) -> str:
    text = " ".join(str(values.get(key) or "").split())
    if (required and not text) or len(text) > limit:
        raise InvalidInput({key: message})
    return text


def _time(value: object, key: str) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    found = _TIME.match(str(value or "").strip())
    if not found:
        raise InvalidInput({key: Msg("Enter a time as HH:MM (for example 08:30).")})
    return time(int(found.group(1)), int(found.group(2)))


def _weekdays(value: object) -> str:
    if isinstance(value, (list, tuple, set)):
        text = "".join(str(v) for v in value)
    else:
        text = str(value or "")
    text = re.sub(r"[\s,]", "", text)
    days = sorted({c for c in text if c.isdigit()})
    if not days or any(int(d) > 6 for d in days) or any(not c.isdigit() for c in text):
        raise InvalidInput({"weekdays": Msg("Choose at least one weekday.")})
    return "".join(days)


def _whole_minutes(value: object, key: str) -> int:
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdigit() or len(text) > 5:
        raise InvalidInput({key: Msg("Enter the break minutes as a whole number from 0.")})
    return int(text)


def _seconds(value: object) -> float:
    try:
        seconds = float(str(value).strip().replace(",", ""))
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_CYCLE_SECONDS:
        raise InvalidInput(
            {
                "ideal_cycle_seconds": Msg(
                    "Enter the ideal cycle time in seconds: more than 0, at most {n}.",
                    n=f"{MAX_CYCLE_SECONDS:,}",
                )
            }
        )
    return seconds


def check_shift(values: Mapping) -> dict:
    """A shift's fields, checked: name, machine ("" = every machine), start and end as HH:MM (an
    end before the start runs past midnight), breaks shorter than the shift, weekdays 0–6."""
    shift = {
        "name": _text(
            values, "name", 40, Msg("Enter a shift name of 1 to 40 characters."), required=True
        ),
        "machine": _text(
            values,
            "machine",
            80,
            Msg("Enter a machine name of at most 80 characters."),
            required=False,
        ),
        "starts": _time(values.get("starts"), "starts"),
        "ends": _time(values.get("ends"), "ends"),
        "break_minutes": _whole_minutes(values.get("break_minutes"), "break_minutes"),
        "weekdays": _weekdays(values.get("weekdays")),
    }
    if shift_minutes(shift) <= 0:
        raise InvalidInput({"break_minutes": Msg("The breaks must be shorter than the shift.")})
    return shift


def check_cycle_time(values: Mapping) -> dict:
    return {
        "product": _text(
            values, "product", 80, Msg("Enter a product of 1 to 80 characters."), required=True
        ),
        "machine": _text(
            values,
            "machine",
            80,
            Msg("Enter a machine name of at most 80 characters."),
            required=False,
        ),
        "ideal_cycle_seconds": _seconds(values.get("ideal_cycle_seconds")),
    }


# --- shifts ----------


def list_shifts(session: Session, actor: Actor, organization_id: int | None = None) -> list[Shift]:
    org_id = standards_org(actor, organization_id)
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.organization_id == org_id)
            .order_by(Shift.machine, Shift.starts, Shift.name)
        )
    )


def _shift_taken(session, org_id: int, shift: dict, but: int | None = None) -> None:
    clash = session.scalar(
        select(Shift.id).where(
            Shift.organization_id == org_id,
            Shift.name == shift["name"],
            Shift.machine == shift["machine"],
        )
    )
    if clash is not None and clash != but:
        raise InvalidInput(
            {"name": Msg("This machine already has a shift of this name.")},
        )


def add_shift(
    session: Session, actor: Actor, values: Mapping, organization_id: int | None = None
) -> Shift:
    org_id = standards_org(actor, organization_id)
    checked = check_shift(values)
    _shift_taken(session, org_id, checked)
    shift = Shift(organization_id=org_id, **checked)
    session.add(shift)
    session.flush()
    _audit(session, actor, "factory.shift_add", shift, _shift_details(shift))
    return shift


def update_shift(session: Session, actor: Actor, shift_id: int, values: Mapping) -> Shift:
    shift = _own(session, actor, Shift, shift_id)
    checked = check_shift(values)
    _shift_taken(session, shift.organization_id, checked, but=shift.id)
    before = _shift_details(shift)
    for key, value in checked.items():
        setattr(shift, key, value)
    session.flush()
    _audit(
        session, actor, "factory.shift_update", shift, {"before": before, **_shift_details(shift)}
    )
    return shift


def delete_shift(session: Session, actor: Actor, shift_id: int) -> None:
    shift = _own(session, actor, Shift, shift_id)
    _audit(session, actor, "factory.shift_delete", shift, _shift_details(shift))
    session.delete(shift)
    session.flush()


def shift_values(shift: Shift) -> dict:
    """A shift as its form shows it."""
    return {**_shift_details(shift), "break_minutes": str(shift.break_minutes)}


def _shift_details(shift: Shift) -> dict:
    return {
        "name": shift.name,
        "machine": shift.machine,
        "starts": shift.starts.strftime("%H:%M"),
        "ends": shift.ends.strftime("%H:%M"),
        "break_minutes": shift.break_minutes,
        "weekdays": shift.weekdays,
    }


# --- cycle times ----------


def list_cycle_times(
    session: Session, actor: Actor, organization_id: int | None = None
) -> list[CycleTime]:
    org_id = standards_org(actor, organization_id)
    return list(
        session.scalars(
            select(CycleTime)
            .where(CycleTime.organization_id == org_id)
            .order_by(CycleTime.product, CycleTime.machine)
        )
    )


def _cycle_taken(session, org_id: int, cycle: dict, but: int | None = None) -> None:
    clash = session.scalar(
        select(CycleTime.id).where(
            CycleTime.organization_id == org_id,
            CycleTime.product == cycle["product"],
            CycleTime.machine == cycle["machine"],
        )
    )
    if clash is not None and clash != but:
        raise InvalidInput(
            {"product": Msg("This product already has a cycle time on this machine.")}
        )


def add_cycle_time(
    session: Session, actor: Actor, values: Mapping, organization_id: int | None = None
) -> CycleTime:
    org_id = standards_org(actor, organization_id)
    checked = check_cycle_time(values)
    _cycle_taken(session, org_id, checked)
    cycle = CycleTime(organization_id=org_id, **checked)
    session.add(cycle)
    session.flush()
    _audit(session, actor, "factory.cycle_time_add", cycle, dict(checked))
    return cycle


def update_cycle_time(session: Session, actor: Actor, cycle_id: int, values: Mapping) -> CycleTime:
    cycle = _own(session, actor, CycleTime, cycle_id)
    checked = check_cycle_time(values)
    _cycle_taken(session, cycle.organization_id, checked, but=cycle.id)
    before = _cycle_details(cycle)
    for key, value in checked.items():
        setattr(cycle, key, value)
    session.flush()
    _audit(session, actor, "factory.cycle_time_update", cycle, {"before": before, **checked})
    return cycle


def delete_cycle_time(session: Session, actor: Actor, cycle_id: int) -> None:
    cycle = _own(session, actor, CycleTime, cycle_id)
    _audit(session, actor, "factory.cycle_time_delete", cycle, _cycle_details(cycle))
    session.delete(cycle)
    session.flush()


def cycle_values(cycle: CycleTime) -> dict:
    """A cycle time as its form shows it (no trailing .0 on whole seconds)."""
    seconds = cycle.ideal_cycle_seconds
    text = str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
    return {"product": cycle.product, "machine": cycle.machine, "ideal_cycle_seconds": text}


def _cycle_details(cycle: CycleTime) -> dict:
    return {
        "product": cycle.product,
        "machine": cycle.machine,
        "ideal_cycle_seconds": cycle.ideal_cycle_seconds,
    }


def import_cycle_times(
    session: Session,
    actor: Actor,
    table: Table,
    *,
    organization_id: int | None = None,
    mapping: dict[str, int] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Rows of product, machine (blank = any machine) and ideal cycle seconds: new pairs are
    added, known ones updated. All-or-nothing: any bad row (or a pair given twice) and nothing is
    written; each is named by its row and the file's header."""
    org_id = standards_org(actor, organization_id)
    found = dict(mapping) if mapping is not None else auto_map(table.headers, CYCLE_COLUMNS)
    missing = [c for c in CYCLE_COLUMNS if c.required and c.key not in found]
    if missing:
        message = Msg(
            "These required columns were not found: {names}",
            names=", ".join(c.label_ko for c in missing),
        )
        raise InvalidInput({"mapping": message}, message=message)
    if any(not 0 <= i < len(table.headers) for i in found.values()):
        raise InvalidInput(
            {"mapping": Msg("The column mapping refers to a column the file lacks.")}
        )
    header = {key: table.headers[i] for key, i in found.items()}
    result = ImportResult(encoding=table.encoding, mode="all", total_rows=len(table.rows))
    seen: dict[tuple[str, str], int] = {}
    checked_rows: list[dict] = []
    for index, row in enumerate(table.rows):
        number = table.number(index)
        values = {key: row[i] for key, i in found.items()}
        try:
            checked = check_cycle_time(values)
        except InvalidInput as exc:
            result.rejected.extend(
                RowError(number, header.get(key, key), str(message))
                for key, message in exc.fields.items()
            )
            continue
        pair = (checked["product"], checked["machine"])
        if pair in seen:
            result.rejected.append(
                RowError(
                    number,
                    header["product"],
                    str(Msg("The same product and machine are on row {row}.", row=seen[pair])),
                )
            )
            continue
        seen[pair] = number
        checked_rows.append(checked)
    if result.rejected or dry_run:
        return result
    existing = {
        (c.product, c.machine): c
        for c in session.scalars(select(CycleTime).where(CycleTime.organization_id == org_id))
    }
    for checked in checked_rows:
        known = existing.get((checked["product"], checked["machine"]))
        if known is None:
            session.add(CycleTime(organization_id=org_id, **checked))
            result.created += 1
        elif known.ideal_cycle_seconds != checked["ideal_cycle_seconds"]:
            known.ideal_cycle_seconds = checked["ideal_cycle_seconds"]
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    result.committed = True
    record(
        session,
        actor,
        "factory.cycle_time_import",
        object_type="factory_cycle_time",
        organization_id=org_id,
        details={
            "rows": result.total_rows,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result


# --- for the OEE figures (the caller has authorised the dataset) ----------


def calendar_of(session: Session, organization_id: int) -> list[dict]:
    """The SME's shifts as the OEE engine reads them."""
    return [
        {
            "name": s.name,
            "machine": s.machine or "",
            "starts": s.starts,
            "ends": s.ends,
            "break_minutes": s.break_minutes,
            "weekdays": s.weekdays,
        }
        for s in session.scalars(select(Shift).where(Shift.organization_id == organization_id))
    ]


def cycle_times_of(session: Session, organization_id: int) -> list[dict]:
    return [
        {
            "product": c.product,
            "machine": c.machine or "",
            "ideal_cycle_seconds": c.ideal_cycle_seconds,
        }
        for c in session.scalars(
            select(CycleTime).where(CycleTime.organization_id == organization_id)
        )
    ]
