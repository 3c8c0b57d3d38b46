"""Shared arrangements for the assessment tests: answered and submitted diagnoses."""

from __future__ import annotations

from datetime import date

from sangsaeng.assessments import catalog, service
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.files.service import LocalStorage

SMART = "smart-factory-level"
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def actor_of(db, user):
    return accounts.load_actor(db, user)


def answer_all(instrument_id: str, value: float) -> dict[str, float]:
    instrument = catalog.find(instrument_id)
    answers = {}
    for item in instrument.items:
        if item.respondent != "self":
            continue
        if item.scale.kind == "choice":
            values = sorted(o.value for o in item.scale.options)
            answers[item.id] = min(values, key=lambda v: abs(v - value))
        else:
            best = max(item.scale.points, key=lambda p: p[1])[0]
            worst = min(item.scale.points, key=lambda p: p[1])[0]
            answers[item.id] = worst + (best - worst) * (value - 1) / 4
    return answers


def submitted(
    db,
    actor,
    org,
    storage: LocalStorage,
    instrument_id: str = SMART,
    value: float = 3,
    on: date | None = None,
    answers: dict | None = None,
    **start_kwargs,
):
    assessment = service.start(
        db,
        actor,
        organization_id=org.id,
        instrument_id=instrument_id,
        assessed_on=on,
        **start_kwargs,
    )
    service.save_answers(db, actor, assessment.id, answers or answer_all(instrument_id, value))
    instrument = service.instrument_of(db, assessment)
    required = [item.id for item in instrument.items if item.evidence == "required"]
    if required:  # one stored file serves as the evidence of every question that needs one
        first = service.attach_evidence(
            db, actor, storage, assessment.id, required[0], data=TINY_PDF, filename="evidence.pdf"
        )
        file_id = first.evidence[required[0]][0]
        for item_id in required[1:]:
            service.link_evidence(db, actor, assessment.id, item_id, file_id)
    if instrument.comment_required_below is not None:
        service.save_answers(
            db,
            actor,
            assessment.id,
            {},
            dict.fromkeys((i.id for i in instrument.items), "근거 설명"),
        )
    return service.submit(db, actor, assessment.id)
