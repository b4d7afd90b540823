"""Hook secrets encrypted at rest with a key from the environment (ONEBAR_SECRET_KEY).

The variable holds one or more comma-separated keys: the first encrypts, all decrypt, so a key can
be rotated by putting the new one first. A key is a Fernet key (`Fernet.generate_key()`), or any
passphrase of 16 characters or more, from which a Fernet key is derived with SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from onebar.errors import StoreError, UsageError

ENV_SECRET_KEY = "ONEBAR_SECRET_KEY"
HINT = (
    "set ONEBAR_SECRET_KEY to a Fernet key, e.g. the output of "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError:
        if len(key) < 16:
            raise UsageError(
                f"{ENV_SECRET_KEY}: a key must be a Fernet key or 16 characters or more", hint=HINT
            ) from None
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def secret_box(value: str | None = None) -> MultiFernet:
    """The keys of `value` (default: the environment); a UsageError when none is set."""
    raw = value if value is not None else os.environ.get(ENV_SECRET_KEY, "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise UsageError(f"{ENV_SECRET_KEY} is not set: hook secrets are stored encrypted with it", hint=HINT)
    return MultiFernet([_fernet(k) for k in keys])


def encrypt(secret: str, box: MultiFernet | None = None) -> bytes:
    return (box or secret_box()).encrypt(secret.encode())


def decrypt(token: bytes, box: MultiFernet | None = None) -> str:
    try:
        return (box or secret_box()).decrypt(bytes(token)).decode()
    except InvalidToken:
        raise StoreError(
            "a stored hook secret cannot be decrypted with ONEBAR_SECRET_KEY",
            hint="the key changed: put the old key after the new one (comma-separated) to rotate",
        ) from None
