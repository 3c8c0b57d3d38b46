"""A small world for factory tests: an SME taking part in one operator's program, another SME,
that operator, another operator and an administrator."""

from __future__ import annotations

from dataclasses import dataclass

from sangsaeng.core.policy import Actor
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Application
from tests.assessments.helpers import actor_of
from tests.factories import make_org, make_user
from tests.programs.lifecycle import program_values


@dataclass
class World:
    sme_org_id: int
    other_sme_org_id: int
    office_id: int
    program_id: int
    sme: Actor
    other_sme: Actor
    operator: Actor
    stranger: Actor  # an operator of another organization
    admin: Actor
    users: dict


def build(db) -> World:
    office = make_org(db, kind="operator", size_class="large", name_ko="추진단")
    other_office = make_org(db, kind="operator", size_class="large", name_ko="다른 추진단")
    sme_org = make_org(db, name_ko="정밀가공 주식회사")
    other_sme = make_org(db, name_ko="다른 중소기업")
    platform = make_org(db, kind="other", name_ko="플랫폼")
    users = {
        "sme": make_user(db, roles=[(sme_org, "sme")]),
        "other_sme": make_user(db, roles=[(other_sme, "sme")]),
        "operator": make_user(db, roles=[(office, "operator")]),
        "stranger": make_user(db, roles=[(other_office, "operator")]),
        "admin": make_user(db, roles=[(platform, "admin")]),
    }
    actors = {k: actor_of(db, u) for k, u in users.items()}
    program = programs.create_program(db, actors["operator"], office.id, program_values())
    db.add(Application(program_id=program.id, organization_id=sme_org.id, status="submitted"))
    db.commit()
    return World(
        sme_org.id,
        other_sme.id,
        office.id,
        program.id,
        actors["sme"],
        actors["other_sme"],
        actors["operator"],
        actors["stranger"],
        actors["admin"],
        users,
    )
