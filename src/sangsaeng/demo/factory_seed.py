"""Seeds the demo's factory data: for three SMEs of the smart-factory program, a year of
production records, quality inspections, process parameters and orders, stored through the
dataset import exactly as an upload would be (Parquet under the installation's factory folder),
with the shift calendar and ideal cycle times the SME enters.

Which companies: the demo login's company (sme@demo.sangsaeng.kr, finishing this year's build:
the showcase, with the most data; it lets the program's operator read its production records)
and the first two that completed an MES or POP build last year (a login each, ``FACTORY_LOGINS``;
fewer process lots). Each company's data are generated from its own seed; the planted truths are
those of demo/factory_production, factory_inspection, factory_process and factory_demand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.files import service as files
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.models import Membership, User, utcnow
from sangsaeng.core.policy import Actor, Role
from sangsaeng.demo import factory_demand, factory_inspection, factory_process, factory_production
from sangsaeng.factory import datasets
from sangsaeng.factory.models import (
    INSPECTION,
    ORDERS,
    PROCESS,
    PRODUCTION,
    CycleTime,
    Shift,
)
from sangsaeng.programs.models import P_COMPLETED, Application, Project, Solution

SHOWCASE_LOGIN = "sme@demo.sangsaeng.kr"
FACTORY_LOGINS = (  # email, name; for the companies after the showcase, in order
    ("sme2@demo.sangsaeng.kr", "오생산 (생산관리팀장)"),
    ("sme3@demo.sangsaeng.kr", "배품질 (품질관리팀장)"),
)
OPERATOR_LOGIN = "operator@demo.sangsaeng.kr"
DATA_SOLUTIONS = ("MES", "POP")  # builds that collect production data
LOTS_PER_MACHINE_DAY = {"showcase": 8, "other": 3}
CONSENTED_KINDS = (PRODUCTION,)  # the showcase lets the operator read these, not the others
NAMES = {
    PRODUCTION: "MES 생산실적",
    INSPECTION: "품질검사 결과",
    PROCESS: "사출 공정 조건(로트별)",
    ORDERS: "수주·납품 내역",
}


@dataclass
class SeededFactory:
    period: tuple[date, date]
    companies: list[dict] = field(default_factory=list)  # login, organization_id, datasets
    consents: list[dict] = field(default_factory=list)  # dataset_id, program_id, operator
    rows: int = 0
    folder: str = ""  # where the Parquet files are (datasets.storage_root())

    def summary(self) -> dict:
        return {
            "period": [d.isoformat() for d in self.period],
            "folder": self.folder,
            "companies": self.companies,
            "consents": self.consents,
            "rows": self.rows,
        }


def period(today: date) -> tuple[date, date]:
    """A year of data up to the end of last month."""
    end = today.replace(day=1) - timedelta(days=1)
    return end - timedelta(days=364), end


def factory_companies(session: Session, previous_program_id: int, limit: int = 2) -> list[int]:
    """The first companies (by project) that completed an MES or POP build in last year's call."""
    stmt = (
        select(Project.organization_id)
        .join(
            Application,
            (Application.program_id == Project.program_id)
            & (Application.organization_id == Project.organization_id),
        )
        .join(Solution, Solution.id == Application.solution_id)
        .where(
            Project.program_id == previous_program_id,
            Project.status == P_COMPLETED,
            Solution.solution_type.in_(DATA_SOLUTIONS),
        )
        .order_by(Project.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


@contextlib.contextmanager
def using_storage(storage: LocalStorage) -> Iterator[None]:
    """Factory files go beside the seed's documents (datasets.storage_root() is beside the
    configured storage); a storage the process had is restored afterwards."""
    try:
        previous = files.current_storage()
    except RuntimeError:
        previous = None
    files.configure_storage(storage)
    try:
        yield
    finally:
        if previous is not None:
            files.configure_storage(previous)


def seed_factory(
    session: Session,
    *,
    program_ids: dict[str, int],
    featured_org: int,
    storage: LocalStorage,
    password_hash: str,
    seed: int,
    today: date | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> SeededFactory:
    """Called by seed_database once the programs exist (``program_ids``: previous / current /
    next → id); ``password_hash``: the demo password's, for the logins it adds."""
    start, end = period(today or utcnow().date())
    result = SeededFactory(period=(start, end))
    showcase = _user(session, SHOWCASE_LOGIN)
    others = factory_companies(session, program_ids["previous"], len(FACTORY_LOGINS))
    companies = [(featured_org, showcase, "showcase")]
    for org_id, (email, name) in zip(others, FACTORY_LOGINS, strict=False):
        user = User(email=email, name=name, password_hash=password_hash)
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organization_id=org_id, role=Role.SME))
        session.flush()
        companies.append((org_id, user, "other"))
    with using_storage(storage):
        result.folder = str(datasets.storage_root())
        for index, (org_id, user, size) in enumerate(companies):
            actor = accounts.load_actor(session, user)
            rng = np.random.default_rng([seed, 9, index])
            ids = _datasets(session, actor, org_id, rng, start, end, size, result)
            _standards(session, org_id)
            result.companies.append(
                {
                    "login": user.email,
                    "organization_id": org_id,
                    "showcase": size == "showcase",
                    "datasets": ids,
                }
            )
            if size == "showcase":
                result.consents = _consent(session, actor, ids, program_ids["current"])
            advance(1)
    return result


def _user(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def _frames(rng: np.random.Generator, start: date, end: date, size: str) -> dict:
    days = (end - start).days + 1
    orders = factory_demand.order_file(rng, start, days)
    # Orders still open at the end of the data have no delivery date yet.
    delivered = pd.to_datetime(orders["납품일"]) <= pd.Timestamp(end)
    orders["납품일"] = orders["납품일"].where(delivered, None)
    return {
        PRODUCTION: factory_production.production_records(rng, start, end),
        INSPECTION: factory_inspection.inspections(rng, start, end),
        PROCESS: factory_process.process_lots(
            rng, start, end, lots_per_machine_day=LOTS_PER_MACHINE_DAY[size]
        ),
        ORDERS: orders,
    }


def _datasets(
    session: Session,
    actor: Actor,
    org_id: int,
    rng: np.random.Generator,
    start: date,
    end: date,
    size: str,
    result: SeededFactory,
) -> dict[str, int]:
    label = f"({start:%Y.%m}–{end:%Y.%m})"
    ids = {}
    for kind, frame in _frames(rng, start, end, size).items():
        imported = datasets.import_dataset(
            session, actor, frame, kind=kind, name=f"{NAMES[kind]} {label}", organization_id=org_id
        )
        if not imported.committed:  # the generators make files the import takes as they are
            raise RuntimeError(f"demo {kind} data refused: {imported.as_dict()['rejected'][:3]}")
        ids[kind] = imported.dataset_id
        result.rows += imported.stored_rows
    return ids


def _standards(session: Session, org_id: int) -> None:
    standards = factory_production.standards()
    for shift in standards.shifts:
        session.add(Shift(organization_id=org_id, **shift))
    for cycle in standards.cycle_times:
        session.add(CycleTime(organization_id=org_id, **cycle))
    session.flush()


def _consent(session: Session, actor: Actor, ids: dict[str, int], program_id: int) -> list[dict]:
    consents = []
    for kind in CONSENTED_KINDS:
        consent = datasets.grant_consent(session, actor, ids[kind], program_id)
        consents.append(
            {
                "dataset_id": consent.dataset_id,
                "kind": kind,
                "program_id": consent.program_id,
                "operator_org_id": consent.operator_org_id,
                "operator_login": OPERATOR_LOGIN,
            }
        )
    return consents
