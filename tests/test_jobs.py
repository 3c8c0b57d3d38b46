"""Background jobs: the hourly purge of expired account data, run as the worker runs it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from sangsaeng.core.models import LoginAttempt, PasswordReset, UserSession, utcnow
from sangsaeng.jobs import build_huey, purge_expired_accounts_data, register_tasks
from tests.factories import make_user, session_cookie


def test_purge_removes_only_what_has_expired(db, settings):
    user = make_user(db)
    for _ in range(3):  # one live, one idle too long, one past the absolute limit
        session_cookie(db, user)
    now = utcnow()
    rows = {s.id: s for s in db.scalars(select(UserSession))}
    sessions = list(rows.values())
    sessions[1].last_seen_at = now - timedelta(minutes=settings.session_idle_minutes + 1)
    sessions[2].created_at = now - timedelta(hours=settings.session_absolute_hours + 1)
    sessions[2].last_seen_at = now
    db.add_all(
        [
            PasswordReset(
                token_hash="a" * 64, user_id=user.id, expires_at=now - timedelta(hours=1)
            ),
            PasswordReset(
                token_hash="b" * 64, user_id=user.id, expires_at=now + timedelta(hours=1)
            ),
            LoginAttempt(
                email=user.email, ip="10.0.0.1", succeeded=False, at=now - timedelta(days=31)
            ),
            LoginAttempt(email=user.email, ip="10.0.0.1", succeeded=False, at=now),
        ]
    )
    db.commit()

    purged = purge_expired_accounts_data(settings)

    assert purged == {"sessions": 2, "password_resets": 1, "login_attempts": 1}
    db.expire_all()
    assert [s.id for s in db.scalars(select(UserSession))] == [sessions[0].id]
    assert [r.token_hash for r in db.scalars(select(PasswordReset))] == ["b" * 64]
    assert len(db.scalars(select(LoginAttempt)).all()) == 1


def test_the_purge_is_registered_as_a_periodic_task(settings, tmp_path):
    huey = build_huey(settings.model_copy(update={"data_dir": tmp_path}))
    register_tasks(huey)
    due = {task.name for task in huey.read_periodic(datetime(2026, 1, 1, 3, 17))}
    assert due == {"accounts.purge_expired"}
    assert huey.read_periodic(datetime(2026, 1, 1, 3, 18)) == []
