"""JSON API for the own account, API tokens, and (for admins) users and memberships."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, status

from sangsaeng.core.accounts import service
from sangsaeng.core.accounts.schemas import (
    MembershipIn,
    MembershipOut,
    MeOut,
    PasswordResetIssued,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
)
from sangsaeng.core.web.deps import CurrentActor, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _token_out(token, raw: str | None = None):
    data = {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": service.token_scopes(token),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }
    return TokenCreated(**data, token=raw) if raw else TokenOut(**data)


@router.get("/me", response_model=MeOut)
def me(db: SessionDep, actor: CurrentActor):
    user = service.get_user(db, actor)
    memberships = [MembershipOut(organization_id=o, role=r) for o, r in sorted(actor.memberships)]
    return MeOut(**UserOut.model_validate(user).model_dump(), memberships=memberships)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(db: SessionDep, actor: CurrentActor):
    return [_token_out(t) for t in service.list_tokens(db, actor)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, db: SessionDep, actor: CurrentActor):
    raw, token = service.create_token(
        db, actor, name=body.name, scopes=[str(s) for s in body.scopes]
    )
    return _token_out(token, raw)


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: int, db: SessionDep, actor: CurrentActor):
    return _token_out(service.revoke_token(db, actor, token_id))


@router.get("/users", response_model=list[UserOut])
def list_users(db: SessionDep, actor: CurrentActor, q: str = "", page: int = 1):
    users, _total = service.list_users(db, actor, query=q, page=page)
    return users


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, db: SessionDep, actor: CurrentActor):
    return service.create_user(db, actor, email=body.email, name=body.name, password=body.password)


@router.post(
    "/users/{user_id}/memberships",
    response_model=MembershipOut,
    status_code=status.HTTP_201_CREATED,
)
def add_membership(user_id: int, body: MembershipIn, db: SessionDep, actor: CurrentActor):
    membership = service.add_membership(
        db, actor, user_id=user_id, organization_id=body.organization_id, role=body.role
    )
    return MembershipOut(organization_id=membership.organization_id, role=membership.role)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=PasswordResetIssued,
    status_code=status.HTTP_201_CREATED,
)
def issue_password_reset(
    user_id: int, request: Request, db: SessionDep, settings: SettingsDep, actor: CurrentActor
):
    raw, reset = service.issue_password_reset(
        db, actor, user_id=user_id, valid_for=timedelta(hours=settings.password_reset_hours)
    )
    url = str(request.url_for("reset_form", token=raw))
    return PasswordResetIssued(user_id=user_id, url=url, expires_at=reset.expires_at)
