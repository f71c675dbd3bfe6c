"""Who may use the dashboard, and what protects its forms.

- Bound to loopback, only this machine can connect; the Host header must then name a loopback
  host too (a page on another site cannot reach the server through DNS rebinding).
- Bound to any other address, every request must carry the access token (``Authorization:
  Bearer TOKEN``, or the cookie set by the login form). The token is random, shown once
  when created, and only its SHA-256 is stored (a 256-bit random token needs no slow hash:
  nobody can guess it from its digest).
- Every form that changes something carries a CSRF token that must equal the one in the
  ``mb_csrf`` cookie (double-submit); the API's unsafe methods need it in ``X-CSRF-Token``
  unless they carry the bearer token (a cross-site page cannot set either).
- A request body larger than the upload limit is refused with 413 before it is read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

TOKEN_COOKIE = "mb_token"
CSRF_COOKIE = "mb_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
TOKEN_FILE_NAME = "web-token.sha256"


def hash_token(token: str) -> str:
    """SHA-256 hex digest of ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str | None, token_hash: str) -> bool:
    """Compare in constant time so the response time tells nothing about the digest."""
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), token_hash)


def new_secret() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_file(data_dir: Path) -> Path:
    """Where the access token's digest is kept."""
    return data_dir / TOKEN_FILE_NAME


def load_token_hash(data_dir: Path) -> str | None:
    """The stored digest, or ``None`` when no token was created yet."""
    path = token_file(data_dir)
    if not path.exists():
        return None
    text = path.read_text(encoding="ascii").strip()
    return text if len(text) == 64 else None


def create_token(data_dir: Path) -> str:
    """Create a new access token, store its digest (owner-only file) and return the token.

    The token itself is not kept anywhere: the caller shows it once.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    token = new_secret()
    path = token_file(data_dir)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(hash_token(token) + "\n")
    return token


def csrf_valid(cookie_value: str | None, submitted: str | None) -> bool:
    """The double-submit check: both present and equal (constant time)."""
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(cookie_value, submitted)
