"""People: e-mail normalisation, password hashing and user creation."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from crm.db import db
from tenants.models import User

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("taizhang-timing-equaliser")

MIN_PASSWORD_LENGTH = 12


class PasswordTooShort(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(MIN_PASSWORD_LENGTH)


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Constant-shape check: an unknown user costs one hash verification too."""
    target = user.password_hash if user is not None else _DUMMY_HASH
    try:
        ok: bool = _hasher.verify(target, password)
    except (VerificationError, InvalidHashError):
        ok = False
    return ok and user is not None


def user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(func.lower(User.email) == normalise_email(email))).one_or_none()


def create_user(email: str, name: str, password: str, locale: str | None = None) -> User:
    user = User(email=normalise_email(email), name=name.strip(), password_hash=hash_password(password), locale=locale)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_epoch = (user.session_epoch or 0) + 1
