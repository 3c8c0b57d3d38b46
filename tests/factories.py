"""Plain keyword factories and helpers for tests."""

from __future__ import annotations

import itertools
import re
from functools import cache

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.accounts.passwords import hash_password
from sangsaeng.core.ids import business_no_check_digit
from sangsaeng.core.models import Membership, Organization, SupplierLink, User

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow by design: hash once per test session


def business_no(seed: int | None = None) -> str:
    # Explicit seeds use another middle code (82) than the counter (81): the counter passes
    # any seed in a long test run, and the two must never collide.
    if seed is None:
        return _numbered(next(_counter), "81")
    return _numbered(seed, "82")


def _numbered(n: int, middle: str) -> str:
    first = f"{100 + n % 800:03d}{middle}{n % 10000:04d}"
    return first + str(business_no_check_digit(first))


def make_org(db: Session, **overrides) -> Organization:
    n = next(_counter)
    values = {
        "business_no": _numbered(n, "81"),
        "name_ko": f"테스트기업{n}",
        "kind": "sme",
        "ksic_code": "291",
        "region_code": "41",
        "size_class": "sme",
        "employees": 40,
        "revenue_krw": 7_000_000_000,
        "founded_year": 2001,
    }
    values.update(overrides)
    org = Organization(**values)
    db.add(org)
    db.flush()
    return org


def make_user(
    db: Session, *, email: str | None = None, roles=(), name: str = "테스트 사용자"
) -> User:
    user = User(
        email=email or f"user{next(_counter)}@example.kr", name=name, password_hash=password_hash()
    )
    db.add(user)
    db.flush()
    for org, role in roles:
        db.add(Membership(user_id=user.id, organization_id=org.id, role=role))
    db.flush()
    return user


def link(db: Session, buyer: Organization, supplier: Organization, *, confirmed=True) -> None:
    from sangsaeng.core.models import utcnow

    now = utcnow() if confirmed else None
    db.add(
        SupplierLink(
            buyer_id=buyer.id,
            supplier_id=supplier.id,
            buyer_confirmed_at=now,
            supplier_confirmed_at=now,
        )
    )
    db.flush()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/me").text)


def api_token(db: Session, user: User, scopes=("read", "write")) -> str:
    actor = accounts.load_actor(db, user)
    raw, _token = accounts.create_token(db, actor, name="test", scopes=list(scopes))
    db.commit()
    return raw


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_cookie(db: Session, user: User) -> tuple[str, str]:
    """A signed-in browser session created directly (no argon2): (cookie value, CSRF token)."""
    import secrets

    from sangsaeng.core.accounts.passwords import token_hash
    from sangsaeng.core.models import UserSession

    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    db.add(UserSession(id=token_hash(raw), user_id=user.id, csrf_token=csrf))
    db.flush()
    return raw, csrf
