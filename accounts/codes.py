"""Secrets of the second factor: link tokens, login codes and recovery codes.

All are made with :mod:`secrets` and stored only as hashes. Link tokens are long and
random, so a plain SHA-256 is enough to look them up. Login and recovery codes are
short, so they are hashed with a keyed HMAC (``SECRET_KEY``) and a per-row salt: a
copy of the database alone does not let anyone enumerate the million six-digit codes.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from django.utils.crypto import constant_time_compare, salted_hmac

LOGIN_CODE_DIGITS = 6
RECOVERY_CODE_GROUPS = 3
RECOVERY_CODE_GROUP_LENGTH = 4
_RECOVERY_ALPHABET = string.ascii_lowercase
_HMAC_SALT = "accounts.codes"


def new_link_token() -> str:
    """32 URL-safe characters: fits Telegram's ``start`` parameter (at most 64 of
    A-Z, a-z, 0-9, _ and -)."""
    return secrets.token_urlsafe(24)


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_login_code() -> str:
    return f"{secrets.randbelow(10**LOGIN_CODE_DIGITS):0{LOGIN_CODE_DIGITS}d}"


def new_recovery_code() -> str:
    """Like ``abcd-efgh-ijkl``: 12 random letters, about 56 bits."""
    return "-".join(
        "".join(
            secrets.choice(_RECOVERY_ALPHABET)
            for _ in range(RECOVERY_CODE_GROUP_LENGTH)
        )
        for _ in range(RECOVERY_CODE_GROUPS)
    )


def normalize_recovery_code(code: str) -> str:
    """What people type back: any case, with or without dashes and spaces."""
    letters = "".join(ch for ch in code.lower() if ch in _RECOVERY_ALPHABET)
    size = RECOVERY_CODE_GROUP_LENGTH
    return "-".join(letters[i : i + size] for i in range(0, len(letters), size))


def hash_code(code: str) -> str:
    """``salt$digest``: HMAC-SHA256 keyed with SECRET_KEY over a random salt and the
    code."""
    salt = secrets.token_hex(8)
    return f"{salt}${_digest(salt, code)}"


def check_code(code: str, encoded: str) -> bool:
    """Constant-time comparison of ``code`` with a :func:`hash_code` value."""
    salt, _sep, digest = encoded.partition("$")
    return constant_time_compare(_digest(salt, code), digest)


def _digest(salt: str, code: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()
