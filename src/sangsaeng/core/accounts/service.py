"""Accounts: users, login with throttling, server-side sessions, API tokens, password resets."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from sangsaeng.core.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    dummy_hash,
    hash_password,
    is_common_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from sangsaeng.core.audit.service import changes, record
from sangsaeng.core.errors import (
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from sangsaeng.core.i18n import SUPPORTED_LOCALES, Msg
from sangsaeng.core.models import (
    ApiToken,
    LoginAttempt,
    Membership,
    Organization,
    PasswordReset,
    User,
    UserSession,
    utcnow,
)
from sangsaeng.core.notifications.models import Notification
from sangsaeng.core.pagination import contains_pattern, paginate
from sangsaeng.core.policy import Action, Actor, Role, Scope, assert_can

log = logging.getLogger("sangsaeng.auth")

TOKEN_PREFIX = "ssg_"  # noqa: S105 - a public marker, not a secret
_LAST_SEEN_RESOLUTION = timedelta(seconds=60)
# Kept longer than any throttling window, for investigating attacks in the log's absence.
_LOGIN_ATTEMPT_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta


# ---------------------------------------------------------------- validation


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput({"email": Msg("Enter a valid email address.")}) from exc


def check_password_strength(password: str, email: str = "", field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput({field: Msg("Use at least {n} characters.", n=MIN_LENGTH)})
    if len(password) > MAX_LENGTH:
        raise InvalidInput({field: Msg("Use at most {n} characters.", n=MAX_LENGTH)})
    if is_common_password(password) or password.lower() == email.lower():
        raise InvalidInput(
            {field: Msg("This password is too common or easy to guess. Choose another.")}
        )


# ---------------------------------------------------------------- users


def create_user(session: Session, actor: Actor, *, email: str, name: str, password: str) -> User:
    assert_can(session, actor, Action.USERS_MANAGE)
    email = normalize_email(email)
    check_password_strength(password, email)
    if not name.strip():
        raise InvalidInput({"name": Msg("This field is required.")})
    user = User(email=email, name=name.strip(), password_hash=hash_password(password))
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise InvalidInput({"email": Msg("This email address is already registered.")}) from exc
    record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        details={"email": user.email},
    )
    return user


def add_membership(
    session: Session, actor: Actor, *, user_id: int, organization_id: int, role: Role
) -> Membership:
    assert_can(session, actor, Action.USERS_MANAGE)
    if session.get(User, user_id) is None:
        raise NotFound()
    if session.get(Organization, organization_id) is None:
        raise InvalidInput({"organization_id": Msg("The organization was not found.")})
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user_id,
            Membership.organization_id == organization_id,
            Membership.role == role,
        )
    )
    if existing:
        return existing
    membership = Membership(user_id=user_id, organization_id=organization_id, role=str(role))
    session.add(membership)
    session.flush()
    record(
        session,
        actor,
        "membership.add",
        object_type="user",
        object_id=user_id,
        organization_id=organization_id,
        details={"role": str(role)},
    )
    return membership


def list_users(
    session: Session, actor: Actor, *, query: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[User], int]:
    assert_can(session, actor, Action.USERS_MANAGE)
    result = paginate(session, _users_statement(query), page, per_page)
    return result.items, result.total


def _users_statement(query: str):
    stmt = select(User)
    if query.strip():
        pattern = contains_pattern(query.strip())
        stmt = stmt.where(
            or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\"))
        )
    return stmt.order_by(User.id)


def memberships_of(session: Session, user_id: int) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)
        )
    )


def own_memberships(session: Session, actor: Actor) -> list[tuple[Organization, str]]:
    orgs = {
        o.id: o
        for o in session.scalars(select(Organization).where(Organization.id.in_(actor.org_ids())))
    }
    return [(orgs[org_id], role) for org_id, role in sorted(actor.memberships) if org_id in orgs]


def get_user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    return user


def load_actor(
    session: Session,
    user: User,
    *,
    scopes: frozenset[str] | None = None,
    session_id: str | None = None,
) -> Actor:
    rows = session.execute(
        select(Membership.organization_id, Membership.role).where(Membership.user_id == user.id)
    ).all()
    return Actor(
        user_id=user.id,
        email=user.email,
        name=user.name,
        memberships=frozenset((org, role) for org, role in rows),
        scopes=scopes,
        session_id=session_id,
    )


# ---------------------------------------------------------------- login and sessions


def _recent_failures(session: Session, column, value: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since)
        )
        or 0
    )


def login(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str | None,
    throttle: ThrottlePolicy,
    attempts: sessionmaker[Session],
    now: datetime | None = None,
) -> tuple[str, UserSession, User]:
    """Check the credentials and open a new server-side session; return its raw token.

    The attempt is first committed as a failure in its own transaction (``attempts``), and only
    then counted: concurrent guesses all see each other, so no more than the allowed number
    ever reach the password check. A successful attempt is marked so afterwards.
    """
    now = now or utcnow()
    email_key = email.strip().lower()[:320]
    since = now - throttle.window
    with attempts() as claim_session:
        attempt = LoginAttempt(email=email_key, ip=ip[:45], succeeded=False, at=now)
        claim_session.add(attempt)
        claim_session.commit()
        attempt_id = attempt.id
    if (
        _recent_failures(session, LoginAttempt.email, email_key, since) > throttle.max_failures
        or _recent_failures(session, LoginAttempt.ip, ip, since) > throttle.max_failures
    ):
        log.warning("login throttled email=%r ip=%r", email_key, ip)
        record(session, None, "login.throttled", email=email_key)
        raise TooManyRequests(
            Msg(
                "Too many failed sign-in attempts. Please try again in {minutes} minutes.",
                minutes=int(throttle.window.total_seconds() // 60),
            )
        )
    user = session.scalar(select(User).where(User.email == email_key))
    valid = verify_password(user.password_hash if user else dummy_hash(), password)
    ok = bool(user and valid and user.is_active)
    if not ok:
        log.warning("login failed email=%r ip=%r", email_key, ip)
        record(
            session,
            None,
            "login.failed",
            email=email_key,
            object_type="user" if user else None,
            object_id=user.id if user else None,
        )
        raise InvalidInput(
            {"password": Msg("The email or password is incorrect.")},
            message=Msg("The email or password is incorrect."),
        )
    assert user is not None
    session.execute(
        update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(succeeded=True)
    )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    raw = new_token()
    opened = UserSession(
        id=token_hash(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        ip=ip[:45],
        user_agent=(user_agent or "")[:300],
    )
    session.add(opened)
    session.flush()
    log.info("login ok user=%s ip=%s", user.id, ip)
    record(session, None, "login.ok", email=user.email, object_type="user", object_id=user.id)
    return raw, opened, user


def resolve_session(
    session: Session, raw_token: str, policy: SessionPolicy, now: datetime | None = None
) -> tuple[UserSession, Actor, int] | None:
    """The live session for a cookie token, its actor and the user's unread notification count,
    or ``None`` when unknown or timed out.

    One query (session, user, memberships and the count together): it runs on every page view.
    """
    now = now or utcnow()
    unread = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(
        select(UserSession, User, Membership.organization_id, Membership.role, unread)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Membership, Membership.user_id == User.id)
        .where(UserSession.id == token_hash(raw_token))
    ).all()
    if not rows:
        return None
    found, user = rows[0][0], rows[0][1]
    if now - found.last_seen_at > policy.idle or now - found.created_at > policy.absolute:
        return None  # refused; the hourly purge deletes the row
    if not user.is_active:
        return None
    if now - found.last_seen_at > _LAST_SEEN_RESOLUTION:
        found.last_seen_at = now
    actor = Actor(
        user_id=user.id,
        email=user.email,
        name=user.name,
        memberships=frozenset((org, role) for _s, _u, org, role, _n in rows if org is not None),
        session_id=found.id,
    )
    return found, actor, rows[0][4]


def purge_expired(
    session: Session, policy: SessionPolicy, now: datetime | None = None
) -> dict[str, int]:
    """Delete sessions past their timeouts, spent or expired reset links and old login attempts.

    Expired rows are already refused when used; this keeps the tables from growing without end.
    """
    now = now or utcnow()
    sessions = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.last_seen_at < now - policy.idle,
                UserSession.created_at < now - policy.absolute,
            )
        )
    ).rowcount
    resets = session.execute(
        delete(PasswordReset).where(
            or_(PasswordReset.expires_at < now, PasswordReset.used_at.is_not(None))
        )
    ).rowcount
    attempts = session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - _LOGIN_ATTEMPT_RETENTION)
    ).rowcount
    return {"sessions": sessions, "password_resets": resets, "login_attempts": attempts}


def logout(session: Session, raw_token: str) -> None:
    found = session.get(UserSession, token_hash(raw_token))
    if found is not None:
        record(session, None, "logout", object_type="user", object_id=found.user_id)
        session.delete(found)
        session.flush()


def _end_sessions(session: Session, user_id: int, keep: str | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        stmt = stmt.where(UserSession.id != keep)
    session.execute(stmt)


# ---------------------------------------------------------------- own account


def update_profile(session: Session, actor: Actor, *, name: str, locale: str) -> User:
    assert_can(session, actor, Action.OWN_ACCOUNT)
    errors = {}
    if not name.strip() or len(name.strip()) > 100:
        errors["name"] = Msg("Enter a name of 1 to 100 characters.")
    if locale not in SUPPORTED_LOCALES:
        errors["locale"] = Msg("Choose a supported language.")
    if errors:
        raise InvalidInput(errors)
    user = session.get(User, actor.user_id)
    assert user is not None
    before = {"name": user.name, "locale": user.locale}
    user.name = name.strip()
    user.locale = locale
    session.flush()
    diff = changes(before, {"name": user.name, "locale": user.locale})
    if diff:
        record(session, actor, "user.profile", object_type="user", object_id=user.id, details=diff)
    return user


def set_locale(session: Session, actor: Actor, locale: str) -> None:
    if locale in SUPPORTED_LOCALES and actor.user_id:
        user = session.get(User, actor.user_id)
        if user is not None:
            user.locale = locale
            session.flush()


def change_password(session: Session, actor: Actor, *, current: str, new: str) -> None:
    """Change the own password and end every other session of the user."""
    assert_can(session, actor, Action.OWN_ACCOUNT)
    user = session.get(User, actor.user_id)
    assert user is not None
    if not verify_password(user.password_hash, current):
        raise InvalidInput({"current_password": Msg("The current password is incorrect.")})
    check_password_strength(new, user.email, field="new_password")
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    _end_sessions(session, user.id, keep=actor.session_id)
    session.flush()
    record(session, actor, "user.password_change", object_type="user", object_id=user.id)


# ---------------------------------------------------------------- API tokens


def _token_scopes(token: ApiToken) -> frozenset[str]:
    return frozenset(s for s in token.scopes.split(",") if s)


def create_token(
    session: Session, actor: Actor, *, name: str, scopes: list[str]
) -> tuple[str, ApiToken]:
    """Create a token for the actor's own use; the raw value is returned once, never stored."""
    assert_can(session, actor, Action.OWN_ACCOUNT)
    if not name.strip():
        raise InvalidInput({"name": Msg("This field is required.")})
    valid = {s.value for s in Scope}
    chosen = sorted({Scope(s) for s in scopes if s in valid})
    if not chosen or len(chosen) != len(set(scopes)):
        raise InvalidInput({"scopes": Msg("Choose at least one scope.")})
    if Scope.ADMIN in chosen and not actor.is_admin:
        raise InvalidInput({"scopes": Msg("Only administrators can create admin tokens.")})
    if actor.scopes is not None:
        # A stolen token must not be able to mint successors that outlive its revocation.
        raise Forbidden(Msg("API tokens can only be created after signing in to the web app."))
    raw = new_token(TOKEN_PREFIX)
    token = ApiToken(
        user_id=actor.user_id,
        name=name.strip()[:100],
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        token_hash=token_hash(raw),
        scopes=",".join(chosen),
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "token.create",
        object_type="api_token",
        object_id=token.id,
        details={"name": token.name, "scopes": chosen},
    )
    return raw, token


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    assert_can(session, actor, Action.OWN_ACCOUNT)
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())
        )
    )


def token_scopes(token: ApiToken) -> list[str]:
    return sorted(_token_scopes(token))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    assert_can(session, actor, Action.OWN_ACCOUNT)
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        record(session, actor, "token.revoke", object_type="api_token", object_id=token.id)
    return token


def resolve_api_token(session: Session, raw: str, now: datetime | None = None) -> Actor | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = now or utcnow()
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(raw)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > _LAST_SEEN_RESOLUTION:
        token.last_used_at = now
    return load_actor(session, user, scopes=_token_scopes(token))


# ---------------------------------------------------------------- password resets


def issue_password_reset(
    session: Session, actor: Actor, *, user_id: int, valid_for: timedelta
) -> tuple[str, PasswordReset]:
    """An admin issues a one-time reset link; earlier unused links of the user stop working."""
    assert_can(session, actor, Action.USERS_MANAGE)
    if session.get(User, user_id) is None:
        raise NotFound()
    now = utcnow()
    for old in session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)
        )
    ):
        old.used_at = now
    raw = new_token()
    reset = PasswordReset(
        token_hash=token_hash(raw),
        user_id=user_id,
        issued_by_id=actor.user_id or None,
        created_at=now,
        expires_at=now + valid_for,
    )
    session.add(reset)
    session.flush()
    log.info("password reset issued user=%s by=%s", user_id, actor.user_id)
    record(session, actor, "user.password_reset_issue", object_type="user", object_id=user_id)
    return raw, reset


def find_password_reset(session: Session, raw: str) -> tuple[PasswordReset, User]:
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(raw)))
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        raise NotFound(Msg("This reset link is invalid or has expired."))
    user = session.get(User, reset.user_id)
    if user is None:
        raise NotFound(Msg("This reset link is invalid or has expired."))
    return reset, user


def complete_password_reset(session: Session, raw: str, *, new_password: str) -> User:
    reset, user = find_password_reset(session, raw)
    check_password_strength(new_password, user.email, field="new_password")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    reset.used_at = utcnow()
    _end_sessions(session, user.id)
    session.flush()
    record(
        session,
        None,
        "user.password_reset",
        email=user.email,
        object_type="user",
        object_id=user.id,
    )
    return user


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated()
    return actor


def export_users(
    session: Session, actor: Actor, *, query: str = ""
) -> tuple[tuple[str, ...], list[tuple]]:
    """The user list for a download (personal data: the download is logged)."""
    assert_can(session, actor, Action.USERS_MANAGE)
    users = session.scalars(_users_statement(query)).all()
    rows = [
        (
            u.id,
            u.email,
            u.name,
            u.locale,
            "active" if u.is_active else "inactive",
            u.created_at.isoformat(),
        )
        for u in users
    ]
    record(session, actor, "users.export", details={"rows": len(rows)})
    return ("id", "email", "name", "locale", "status", "created_at"), rows
