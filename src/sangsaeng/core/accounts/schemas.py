"""Input and output shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sangsaeng.core.policy import Role, Scope


class UserCreate(BaseModel):
    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(max_length=256)


class MembershipIn(BaseModel):
    organization_id: int
    role: Role


class MembershipOut(BaseModel):
    organization_id: int
    role: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    locale: str
    is_active: bool
    created_at: datetime


class MeOut(UserOut):
    memberships: list[MembershipOut]


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ], min_length=1)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its hash is stored.")


class PasswordResetIssued(BaseModel):
    user_id: int
    url: str
    expires_at: datetime
