"""Impact studies: who may study which programs, the study's specification checked field by
field, the job that runs it (panel rows, participants' cohorts from the programs' projects,
revenue bands → ``engine.study.analyse``) and the stored result — aggregates only.

Who: the operators of the programs (and administrators), and the sponsors of the programs. A
study is visible to whoever may study every one of its programs; to anyone else it is not there
(404). The firm-level rows of a panel never leave ``impact.panels``: a result holds counts,
means, estimates and intervals, never a firm.

Participants are the firms with a project in the study's programs. Their cohort is the year
their support was completed (projects actually completed) or the year it started (the
agreement's start), as the specification says; the earliest when a firm has several projects. A
participant without a cohort under the rule (a project still running or cancelled) is left out of
both groups, and so is a firm supported by another program of the installation: neither is a
clean comparison firm.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import Forbidden, InvalidInput, NotFound
from sangsaeng.core.i18n import N_, Msg, gettext
from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.jobs import service as jobs
from sangsaeng.core.jobs.models import FAILED as JOB_FAILED
from sangsaeng.core.jobs.models import QUEUED as JOB_QUEUED
from sangsaeng.core.jobs.models import RUNNING as JOB_RUNNING
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.models import Organization, utcnow
from sangsaeng.core.orgs.service import revenue_bands
from sangsaeng.core.policy import Actor, Role
from sangsaeng.impact import panels
from sangsaeng.impact.engine import study as engine
from sangsaeng.impact.models import DONE, FAILED, QUEUED, RUNNING, FirmPanel, ImpactStudy
from sangsaeng.programs.models import P_CANCELLED, P_COMPLETED, Program, ProgramSponsor, Project

JOB_KIND = "impact.study"
MAX_TITLE = 200
MAX_PROGRAMS = 20
MAX_SEED = 2**31 - 1

TRANSFORM_LABELS = {"log": Msg("Logarithm (relative change)"), "level": Msg("Level")}
COHORT_RULE_LABELS = {
    "completed": Msg("Year support was completed"),
    "started": Msg("Year support started"),
}
MATCH_LEVEL_LABELS = {
    "division": Msg("KSIC division (2 digits)"),
    "class": Msg("KSIC class (3 digits)"),
}
REFINE_LABELS = {
    "none": Msg("None (exact cells only)"),
    "pscore": Msg("Propensity score"),
    "mahalanobis": Msg("Mahalanobis distance"),
}
CONTROL_LABELS = {"never": Msg("Never-treated"), "notyet": Msg("Not-yet-treated")}
METHOD_LABELS = {
    "dr": Msg("Doubly robust"),
    "reg": Msg("Outcome regression"),
    "ipw": Msg("Inverse probability weighting"),
}
COVARIATE_LABELS = {name: Msg(label) for name, label in engine.VARIABLE_LABELS.items()}
STATUS_LABELS = {
    QUEUED: Msg("Waiting"),
    RUNNING: Msg("Running"),
    DONE: Msg("Done"),
    FAILED: Msg("Failed"),
}
# Choices of the specification, in the order the wizard offers them.
CHOICES = {
    "outcome": engine.OUTCOMES,
    "transform": engine.TRANSFORMS,
    "cohort_rule": engine.COHORT_RULES,
    "match_level": ("division", "class"),
    "refine": ("pscore", "mahalanobis", "none"),
    "control": ("never", "notyet"),
    "method": ("dr", "reg", "ipw"),
}


# --- who may study which programs --------------------------------------------------------------


@dataclass(frozen=True)
class _Rights:
    """The programs an actor may study: those its operator organizations run and those its
    sponsor organizations fund (None: every program, for administrators)."""

    operated: set[int] | None
    sponsored: set[int]

    def allows(self, program_ids: Iterable[int]) -> bool:
        if self.operated is None:
            return True
        ids = set(program_ids)
        return bool(ids) and ids <= (self.operated | self.sponsored)


def _rights(session: Session, actor: Actor) -> _Rights:
    if actor.is_admin:
        return _Rights(None, set())
    operated: set[int] = set()
    if operators := actor.org_ids(Role.OPERATOR):
        operated = set(
            session.scalars(select(Program.id).where(Program.operator_org_id.in_(operators)))
        )
    sponsored: set[int] = set()
    if sponsors := actor.org_ids(Role.SPONSOR):
        sponsored = set(
            session.scalars(
                select(ProgramSponsor.program_id).where(
                    ProgramSponsor.organization_id.in_(sponsors)
                )
            )
        )
    return _Rights(operated, sponsored)


def may_use(actor: Actor) -> bool:
    """Studies are for operators, sponsors and administrators; other roles are refused (403)."""
    return actor.is_admin or actor.has_role(Role.OPERATOR, Role.SPONSOR)


def _ensure_may_use(actor: Actor) -> None:
    if not may_use(actor):
        raise Forbidden()


def _ensure_may_write(actor: Actor) -> None:
    _ensure_may_use(actor)
    if actor.scopes is not None and not ({"write", "admin"} & actor.scopes):
        raise Forbidden()


def studiable_programs(session: Session, actor: Actor) -> list[Program]:
    """The programs the actor may study, newest first."""
    _ensure_may_use(actor)
    rights = _rights(session, actor)
    stmt = select(Program).order_by(Program.year.desc(), Program.id.desc())
    if rights.operated is not None:
        stmt = stmt.where(Program.id.in_(rights.operated | rights.sponsored))
    return list(session.scalars(stmt))


def usable_panels(session: Session, actor: Actor, program_ids: Iterable[int]) -> list[FirmPanel]:
    """Panels the actor may use for a study of these programs (their operators' panels)."""
    ids = [int(i) for i in program_ids]
    if not ids or not _rights(session, actor).allows(ids):
        return []
    return panels.panels_for_programs(session, actor, ids)


# --- the specification -------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _whole(raw: Mapping, name: str, errors: dict, *, low: int, high: int, default=None):
    """An optional whole number within [low, high]; ``default`` when the field is empty."""
    text = _text(raw.get(name))
    if not text:
        return default
    if not text.lstrip("-").isdigit() or len(text) > 12 or not low <= int(text) <= high:
        errors[name] = Msg("Enter a whole number from {min} to {max}.", min=low, max=high)
        return default
    return int(text)


def _caliper(raw: Mapping, errors: dict) -> float | None:
    if "caliper" not in raw:
        return engine.StudySpec.caliper
    text = _text(raw.get("caliper"))
    if not text:
        return None  # an empty caliper: no caliper at all
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors["caliper"] = Msg(
            "Enter a number above 0 and at most 5, or leave it empty for no caliper."
        )
        return engine.StudySpec.caliper
    return value


def _covariates(raw: Mapping) -> tuple[str, ...]:
    value = raw.get("covariates") or ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(dict.fromkeys(_text(v) for v in value if _text(v)))


def clean_spec(raw: Mapping, panel: FirmPanel | None = None) -> tuple[engine.StudySpec, dict]:
    """The specification from a form or a JSON body (text or numbers) and the problems found, by
    field, as messages in the user's language. Missing fields take the engine's defaults."""
    errors: dict[str, Msg] = {}
    defaults = engine.StudySpec()
    values: dict = {}
    for name, allowed in CHOICES.items():
        text = _text(raw.get(name)) or getattr(defaults, name)
        if text not in allowed:
            errors[name] = Msg("Choose a listed value.")
            text = getattr(defaults, name)
        values[name] = text
    values["ratio"] = _whole(raw, "ratio", errors, low=1, high=10, default=defaults.ratio)
    values["bootstrap"] = _whole(
        raw, "bootstrap", errors, low=0, high=engine.MAX_BOOTSTRAP, default=0
    )
    values["seed"] = _whole(raw, "seed", errors, low=0, high=MAX_SEED, default=0)
    first = panel.year_min if panel and panel.year_min else panels.FIRST_YEAR
    last = panel.year_max if panel and panel.year_max else 2100
    for name in ("base_year", "end_year"):
        values[name] = _whole(raw, name, errors, low=first, high=last)
    values["caliper"] = _caliper(raw, errors)
    values["covariates"] = _covariates(raw)
    spec = engine.StudySpec(**values)
    for name, msgid, params in spec.problems():
        errors.setdefault(name, Msg(msgid, **params))
    if "covariates" in errors:
        spec = engine.StudySpec(**{**values, "covariates": ()})
    return spec, errors


def _program_ids(raw: object) -> list[int] | None:
    """Program ids from a list (a form's repeated field or JSON) or a comma-separated text; None
    when one of them is not an id."""
    items = raw if isinstance(raw, list | tuple) else _text(raw).split(",")
    ids: list[int] = []
    for item in items:
        text = _text(item)
        if not text:
            continue
        if not text.isdigit() or len(text) > 12:
            return None
        ids.append(int(text))
    return list(dict.fromkeys(ids))


# --- creating and running ----------------------------------------------------------------------


def _owner_org(session: Session, actor: Actor, chosen: list[Program]) -> int:
    """The organization the study is filed under: the caller's operator organization running
    the first program, else its sponsor organization funding them, else (administrators) the
    first program's operator."""
    operators = actor.org_ids(Role.OPERATOR)
    for program in chosen:
        if program.operator_org_id in operators:
            return program.operator_org_id
    if sponsors := actor.org_ids(Role.SPONSOR):
        funding = set(
            session.scalars(
                select(ProgramSponsor.organization_id).where(
                    ProgramSponsor.program_id.in_([p.id for p in chosen]),
                    ProgramSponsor.organization_id.in_(sponsors),
                )
            )
        )
        if funding:
            return min(funding)
    return chosen[0].operator_org_id


def _submit(session: Session, actor: Actor, study: ImpactStudy) -> None:
    job = jobs.submit(
        session, actor, JOB_KIND, {"study_id": study.id}, organization_id=study.organization_id
    )
    study.job_id = job.id
    session.flush()


def create_study(
    session: Session,
    actor: Actor,
    *,
    title: str = "",
    program_ids: object = (),
    panel_id: object = None,
    spec: Mapping | None = None,
) -> ImpactStudy:
    """Check every field, store the study and hand it to the job queue (it runs once the
    request's transaction commits). Field errors in the user's language; 403 for roles that run
    no studies."""
    _ensure_may_write(actor)
    errors: dict[str, Msg] = {}
    rights = _rights(session, actor)
    ids = _program_ids(program_ids)
    chosen: list[Program] = []
    if not ids:
        errors["programs"] = Msg("Choose at least one program.")
    elif len(ids) > MAX_PROGRAMS:
        errors["programs"] = Msg("Choose at most {n} programs.", n=MAX_PROGRAMS)
    else:
        found = {p.id: p for p in session.scalars(select(Program).where(Program.id.in_(ids)))}
        if set(found) != set(ids) or not rights.allows(ids):
            errors["programs"] = Msg("Choose a listed value.")
        else:
            chosen = [found[i] for i in ids]
    panel = None
    panel_text = _text(panel_id)
    if not panel_text:
        errors["panel"] = Msg("Choose a panel.")
    elif chosen:
        usable = {p.id: p for p in panels.panels_for_programs(session, actor, ids)}
        panel = usable.get(int(panel_text)) if panel_text.isdigit() else None
        if panel is None:
            errors["panel"] = Msg("Choose a panel usable for the chosen programs.")
    clean, spec_errors = clean_spec(spec or {}, panel)
    errors.update(spec_errors)
    name = _text(title)
    if len(name) > MAX_TITLE:
        errors["title"] = Msg("Enter at most {n} characters.", n=MAX_TITLE)
    if errors:
        raise InvalidInput(errors)
    if not name:
        name = gettext(
            "{program} — {outcome}",
            program=chosen[0].name_ko,
            outcome=str(panels.OUTCOME_LABELS[clean.outcome]),
        )[:MAX_TITLE]
    study = ImpactStudy(
        title=name,
        organization_id=_owner_org(session, actor, chosen),
        program_ids=[p.id for p in chosen],
        panel_id=panel.id,
        spec=clean.as_dict(),
        status=QUEUED,
        error=[],
        created_by_id=actor.user_id or None,
    )
    session.add(study)
    session.flush()
    _submit(session, actor, study)
    record(
        session,
        actor,
        "impact.study.create",
        object_type="impact_study",
        object_id=study.id,
        organization_id=study.organization_id,
        details={"programs": study.program_ids, "panel": study.panel_id, "spec": study.spec},
    )
    return study


def rerun(session: Session, actor: Actor, study_id: int) -> ImpactStudy:
    """A fresh run of the same specification as a new study: the earlier result stays as it
    was (same seed, same data: the same figures; new data: the new run shows it)."""
    original = get_study(session, actor, study_id)  # 404 first: the study may be private
    _ensure_may_write(actor)
    # The caller must still be allowed the panel for these programs.
    if original.panel_id not in {
        p.id for p in panels.panels_for_programs(session, actor, original.program_ids)
    }:
        raise NotFound()
    study = ImpactStudy(
        title=original.title,
        organization_id=original.organization_id,
        program_ids=list(original.program_ids),
        panel_id=original.panel_id,
        spec=dict(original.spec),
        status=QUEUED,
        error=[],
        created_by_id=actor.user_id or None,
    )
    session.add(study)
    session.flush()
    _submit(session, actor, study)
    record(
        session,
        actor,
        "impact.study.run",
        object_type="impact_study",
        object_id=study.id,
        organization_id=study.organization_id,
        details={"rerun_of": original.id},
    )
    return study


# --- reading -----------------------------------------------------------------------------------


def effective_status(study: ImpactStudy, job_status: str | None) -> str:
    """The study's status, with the job's word while it waits or runs: a job that failed outside
    the analysis (a crash, a stopped worker) leaves the study unfinished, so it reads failed."""
    if study.status in (DONE, FAILED) or job_status is None:
        return study.status
    return {JOB_QUEUED: QUEUED, JOB_RUNNING: RUNNING, JOB_FAILED: FAILED}.get(
        job_status, study.status
    )


def get_study(session: Session, actor: Actor, study_id: int) -> ImpactStudy:
    """The study, if the actor may study every one of its programs: to anyone else, roles
    without studies included, it is not there (404)."""
    study = session.get(ImpactStudy, study_id)
    if study is None or not _rights(session, actor).allows(study.program_ids or []):
        raise NotFound()
    return study


@dataclass(frozen=True)
class StudyListing:
    study: ImpactStudy
    programs: list[Program]
    status: str

    @property
    def outcome(self) -> str:
        return (self.study.spec or {}).get("outcome", "")


def list_studies(
    session: Session, actor: Actor, program_id: int | None = None
) -> list[StudyListing]:
    """The studies the actor may see, newest first (those of one program when given)."""
    _ensure_may_use(actor)
    rights = _rights(session, actor)
    rows = session.execute(
        select(ImpactStudy, Job.status)
        .outerjoin(Job, Job.id == ImpactStudy.job_id)
        .order_by(ImpactStudy.created_at.desc(), ImpactStudy.id.desc())
    ).all()
    shown = [
        (study, job_status)
        for study, job_status in rows
        if rights.allows(study.program_ids or [])
        and (program_id is None or program_id in (study.program_ids or []))
    ]
    wanted = {i for study, _s in shown for i in study.program_ids or []}
    names = (
        {p.id: p for p in session.scalars(select(Program).where(Program.id.in_(wanted)))}
        if wanted
        else {}
    )
    return [
        StudyListing(
            study,
            [names[i] for i in study.program_ids or [] if i in names],
            effective_status(study, job_status),
        )
        for study, job_status in shown
    ]


@dataclass(frozen=True)
class StudyDetail:
    study: ImpactStudy
    status: str
    job: Job | None
    programs: list[Program]
    panel: FirmPanel
    panel_rows_readable: bool  # the caller imported the panel (a link to its rows pages)
    can_run: bool

    @property
    def spec(self) -> engine.StudySpec:
        return engine.StudySpec.from_dict(self.study.spec or {})

    @property
    def result(self) -> dict | None:
        return self.study.result if self.status == DONE else None

    @property
    def errors(self) -> list:
        return self.study.error or []

    def as_dict(self) -> dict:
        return {
            "id": self.study.id,
            "title": self.study.title,
            "programs": [{"id": p.id, "name": p.name_ko} for p in self.programs],
            "panel": {"id": self.panel.id, "name": self.panel.name},
            "spec": self.study.spec,
            "status": self.status,
            "job_id": self.study.job_id,
            "created_at": self.study.created_at.isoformat() if self.study.created_at else None,
            "finished_at": self.study.finished_at.isoformat() if self.study.finished_at else None,
            "errors": self.errors,
            "result": self.result,
        }


def study_detail(session: Session, actor: Actor, study_id: int) -> StudyDetail:
    study = get_study(session, actor, study_id)
    job = session.get(Job, study.job_id) if study.job_id else None
    chosen = {
        p.id: p for p in session.scalars(select(Program).where(Program.id.in_(study.program_ids)))
    }
    panel = session.get(FirmPanel, study.panel_id)
    writer = actor.scopes is None or bool({"write", "admin"} & actor.scopes)
    return StudyDetail(
        study=study,
        status=effective_status(study, job.status if job else None),
        job=job,
        programs=[chosen[i] for i in study.program_ids if i in chosen],
        panel=panel,
        panel_rows_readable=panels.can_read_rows(session, actor, panel),
        can_run=writer,
    )


def record_export(session: Session, actor: Actor, study: ImpactStudy, fmt: str) -> None:
    record(
        session,
        actor,
        "impact.study.export",
        object_type="impact_study",
        object_id=study.id,
        organization_id=study.organization_id,
        details={"format": fmt, "status": study.status},
    )


# --- the job -----------------------------------------------------------------------------------


def participant_cohorts(
    session: Session, program_ids: Iterable[int], rule: str
) -> tuple[dict[str, int], set[str]]:
    """The participants' cohorts (business number → year) under ``rule`` and the firms to
    leave out of both groups: participants without a cohort under the rule, and firms with a
    project in any other program."""
    ids = set(program_ids)
    rows = session.execute(
        select(
            Organization.business_no,
            Project.program_id,
            Project.status,
            Project.starts_on,
            Project.completed_on,
        ).join(Organization, Organization.id == Project.organization_id)
    ).all()
    cohorts: dict[str, int] = {}
    involved: set[str] = set()
    for business_no, program_id, status, starts_on, completed_on in rows:
        firm = normalize_business_no(business_no or "")
        if not firm:
            continue
        involved.add(firm)
        if program_id not in ids:
            continue
        if rule == "completed":
            year = completed_on.year if status == P_COMPLETED and completed_on else None
        else:
            year = starts_on.year if status != P_CANCELLED and starts_on else None
        if year is not None:
            cohorts[firm] = min(year, cohorts.get(firm, year))
    return cohorts, involved - set(cohorts)


def _jsonable(value):
    """The result as plain JSON: numpy scalars as Python numbers, NaN and infinities as null
    (PostgreSQL's JSON refuses them)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run_job(session: Session, actor: Actor, params: dict, report: jobs.Reporter) -> dict:
    """``impact.study``: the panel's rows, the participants' cohorts and the revenue bands into
    the engine; the result (aggregates) or the reasons the data cannot support the study
    stored on the study. A study already finished is left as it is."""
    study = session.get(ImpactStudy, int(params["study_id"]))
    if study is None:
        raise NotFound()
    if study.status in (DONE, FAILED):
        return {"study_id": study.id, "status": study.status}
    panels.get_panel(session, actor, study.panel_id)  # the owner may still use the panel
    if not _rights(session, actor).allows(study.program_ids or []):
        raise NotFound()
    spec = engine.StudySpec.from_dict(study.spec or {})
    report(2, gettext("Loading the panel."))
    rows = panels.load_rows(session, study.panel_id)
    cohorts, left_out = participant_cohorts(session, study.program_ids, spec.cohort_rule)
    in_panel = set(rows["business_no"].unique())
    no_cohort = {f for f in left_out if f in in_panel}
    rows = rows.loc[~rows["business_no"].isin(no_cohort)]
    bands = [(b.code, b.min_krw, b.max_krw) for b in revenue_bands(session)]

    def progress(done: int, total: int) -> None:
        if total:
            report(
                10 + int(85 * done / total),
                gettext("Step {done} of {total}.", done=done, total=total),
            )

    report(8, gettext("Matching and estimating."))
    try:
        result = engine.analyse(rows, cohorts, spec, bands, progress)
    except engine.PanelError as exc:
        study.status = FAILED
        study.error = _jsonable([[msgid, params] for msgid, params in exc.problems])
        study.result = None
    else:
        result["n"]["left_out"] = len(no_cohort)
        result["method"].append(
            [
                N_(
                    "Left out of both groups: {n} firms of the panel with a project that gives "
                    "no cohort under this rule (running or cancelled) or with a project in "
                    "another program."
                ),
                {"n": len(no_cohort)},
            ]
        )
        study.status = DONE
        study.result = _jsonable(result)
        study.error = []
    study.finished_at = utcnow()
    session.flush()
    return {"study_id": study.id, "status": study.status}


def register() -> None:
    jobs.register_kind(JOB_KIND, Msg("Run an impact study"), run_job)
