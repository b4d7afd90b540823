"""Ed25519 keys and C2SP signed notes, the envelope of the audit checkpoints.

A checkpoint is a C2SP signed note (https://c2sp.org/signed-note): a UTF-8 text ending in a
newline, a blank line, then one line per signature, `— <key name> base64(key id || signature)`.
The key id is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key). A verifier
key is written `<name>+<hex key id>+base64(0x01 || public key)`, the form auditors are given.

Keys come with one precedence: a flag, then ONEBAR_AUDIT_KEY (the key itself), then
ONEBAR_AUDIT_KEY_FILE, then the default file beside the default store. Reading happens only
when asked, never at import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from onebar.errors import UsageError
from onebar.settings import default_database_path

ENV_KEY = "ONEBAR_AUDIT_KEY"
ENV_KEY_FILE = "ONEBAR_AUDIT_KEY_FILE"
ENV_PUBLIC_KEY = "ONEBAR_AUDIT_PUBLIC_KEY"
KEY_NAME = "onebar-audit"
_ED25519 = b"\x01"  # signed-note algorithm byte for Ed25519
_DASH = "\u2014 "


def default_key_path() -> Path:
    """$XDG_DATA_HOME/onebar/audit.key, beside the default store (`onebar audit keygen` writes it)."""
    return default_database_path().parent / "audit.key"


def _key_id(name: str, public: Ed25519PublicKey) -> bytes:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + raw).digest()[:4]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise UsageError(f"{name!r} is not a key name: no spaces and no '+'", field="key")
    return name


@dataclass(frozen=True)
class VerifierKey:
    """A public key that checks checkpoint signatures; safe to hand to anyone."""

    name: str
    public: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public)

    def vkey(self) -> str:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(_ED25519 + raw).decode()}"

    @classmethod
    def parse(cls, text: str, *, name: str = KEY_NAME) -> VerifierKey:
        """A verifier key string (name+id+key), a PEM public key, or the path of a file holding either."""
        text = text.strip()
        if not text.startswith("-----") and "+" not in text and Path(text).is_file():
            text = Path(text).read_text(encoding="utf-8").strip()
        if text.startswith("-----BEGIN"):
            if "PRIVATE KEY" in text:
                return SignerKey.parse(text, name=name).verifier
            try:
                public = serialization.load_pem_public_key(text.encode())
            except ValueError as exc:
                raise UsageError(f"not a PEM public key: {exc}", field="public_key") from None
            if not isinstance(public, Ed25519PublicKey):
                raise UsageError("the public key is not an Ed25519 key", field="public_key")
            return cls(name, public)
        parts = text.split("+", 2)  # base64 may itself hold "+"
        if len(parts) != 3:
            raise UsageError(
                "not a verifier key: expected NAME+KEYID+BASE64 (as `onebar audit keygen` prints it) or a PEM file",
                field="public_key",
            )
        key_name, key_id, b64 = parts
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise UsageError("the verifier key's last part is not base64", field="public_key") from None
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise UsageError("the verifier key is not an Ed25519 key", field="public_key")
        key = cls(_check_name(key_name), Ed25519PublicKey.from_public_bytes(raw[1:]))
        if key.key_id.hex() != key_id.lower():
            raise UsageError(f"the verifier key's id {key_id} does not match its key", field="public_key")
        return key


@dataclass(frozen=True)
class SignerKey:
    """A private key that signs checkpoints; keep it away from the database it protects."""

    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.private.public_key())

    @classmethod
    def generate(cls, name: str = KEY_NAME) -> SignerKey:
        return cls(_check_name(name), Ed25519PrivateKey.generate())

    def pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @classmethod
    def parse(cls, text: str, *, name: str = KEY_NAME) -> SignerKey:
        """A PEM (PKCS#8) Ed25519 private key, or the base64 of its 32-byte seed."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                private = serialization.load_pem_private_key(text.encode(), password=None)
            except (ValueError, TypeError) as exc:
                raise UsageError(f"not a PEM private key: {exc}", field="key") from None
            if not isinstance(private, Ed25519PrivateKey):
                raise UsageError("the audit key is not an Ed25519 key", field="key")
            return cls(_check_name(name), private)
        try:
            seed = base64.b64decode(text, validate=True)
        except binascii.Error:
            seed = b""
        if len(seed) != 32:
            raise UsageError(
                "the audit key is neither a PEM Ed25519 private key nor the base64 of a 32-byte seed", field="key"
            )
        return cls(_check_name(name), Ed25519PrivateKey.from_private_bytes(seed))

    def save(self, path: Path) -> None:
        """Write the key as PEM, readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.pem())


def load_signer(key_file: Path | None = None) -> SignerKey | None:
    """The signing key: --key-file, then ONEBAR_AUDIT_KEY, then ONEBAR_AUDIT_KEY_FILE, then the default file."""
    if key_file is not None:
        return SignerKey.parse(_read(key_file, "key_file"))
    if os.environ.get(ENV_KEY):
        return SignerKey.parse(os.environ[ENV_KEY])
    if os.environ.get(ENV_KEY_FILE):
        return SignerKey.parse(_read(Path(os.environ[ENV_KEY_FILE]), "key_file"))
    default = default_key_path()
    return SignerKey.parse(_read(default, "key_file")) if default.is_file() else None


def load_verifier(public_key: str | None = None, key_file: Path | None = None) -> VerifierKey | None:
    """The key that checks signatures: --public-key, then ONEBAR_AUDIT_PUBLIC_KEY, then the signing key's."""
    if public_key:
        return VerifierKey.parse(public_key)
    if os.environ.get(ENV_PUBLIC_KEY):
        return VerifierKey.parse(os.environ[ENV_PUBLIC_KEY])
    signer = load_signer(key_file)
    return signer.verifier if signer else None


def _read(path: Path, field: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the audit key {path}: {exc.strerror}", field=field) from None


def sign_note(body: str, key: SignerKey) -> str:
    """The signed note: the body (ending in a newline), a blank line and the signature line."""
    if not body.endswith("\n"):
        raise ValueError("a note body ends with a newline")
    sig = key.private.sign(body.encode("utf-8"))
    return f"{body}\n{_DASH}{key.name} {base64.b64encode(key.verifier.key_id + sig).decode()}\n"


@dataclass(frozen=True)
class NoteCheck:
    """What a signed note says and whether `key` signed it."""

    body: str
    signed: bool
    reason: str  # why not, when not


def open_note(note: str, key: VerifierKey | None) -> NoteCheck:
    """Split a signed note and check its signature by `key` (unchecked when key is None)."""
    body, sep, sigs = note.rpartition("\n\n")
    if not sep:
        return NoteCheck(note, False, "the note has no signature block")
    body += "\n"
    if key is None:
        return NoteCheck(body, False, "no verifier key given")
    seen: list[str] = []
    for line in sigs.splitlines():
        if not line.startswith(_DASH):
            return NoteCheck(body, False, f"malformed signature line {line!r}")
        name, _, b64 = line[len(_DASH) :].rpartition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            return NoteCheck(body, False, "a signature is not base64")
        seen.append(f"{name}+{blob[:4].hex()}")
        if name != key.name or blob[:4] != key.key_id:
            continue
        try:
            key.public.verify(blob[4:], body.encode("utf-8"))
        except InvalidSignature:
            return NoteCheck(body, False, f"the signature by {key.name}+{key.key_id.hex()} is invalid")
        return NoteCheck(body, True, "")
    return NoteCheck(
        body, False, f"not signed by {key.name}+{key.key_id.hex()} (signed by {', '.join(seen) or 'no one'})"
    )
