"""The tamper-evident audit log: every change of state and every refusal, hash-chained and signed.

    from onebar import audit
    audit.record(conn, actor=audit.Actor(person="ana", via="api"), action="access.grant.approve",
                 target="grant:12", payload={"level": "write"})      # inside the caller's transaction
    audit.sign_checkpoint(conn, audit.load_signer())                  # periodically (a service job)
    audit.verify(conn, audit.load_verifier())                         # -> Verification

Design and threat model: docs/audit.md (RFC 6962 leaf and tree hashing, C2SP signed-note
checkpoints, CloudTrail-style chained digests).
"""

from onebar.audit.chain import GENESIS, Actor, Entry
from onebar.audit.checkpoint import AuditIntegrityError, Checkpoint, checkpoints, sign_checkpoint
from onebar.audit.keys import SignerKey, VerifierKey, load_signer, load_verifier
from onebar.audit.log import Event, count, entries, head, record, record_many
from onebar.audit.verify import Problem, Verification, verify, verify_export

__all__ = [
    "GENESIS",
    "Actor",
    "AuditIntegrityError",
    "Checkpoint",
    "Entry",
    "Event",
    "Problem",
    "SignerKey",
    "Verification",
    "VerifierKey",
    "checkpoints",
    "count",
    "entries",
    "head",
    "load_signer",
    "load_verifier",
    "record",
    "record_many",
    "sign_checkpoint",
    "verify",
    "verify_export",
]
