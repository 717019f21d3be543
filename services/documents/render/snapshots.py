"""The snapshots of each document kind (shared/contracts/documents/snapshots.py), the
template each is printed with, and what names a rendered PDF: its checksum.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass

from shared.contracts.documents import vocabulary
from shared.contracts.documents.snapshots import SNAPSHOT_MODELS, Roster, Snapshot

TEMPLATES = {
    "pre_publicity_roster": "roster.html",
    "registration_form": "registration.html",
    "pre_publicity_report": "publicity_report.html",
    "declaration_form": "declaration.html",
    "post_publicity_roster": "roster.html",
    "post_publicity_report": "publicity_report.html",
}


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    model: type[Snapshot]
    template: str
    roster: bool = False  # paginated by the engine, rendered in chunks when long


KINDS = {
    key: Kind(key, kind.title, SNAPSHOT_MODELS[key], TEMPLATES[key], kind.roster)
    for key, kind in vocabulary.KINDS.items()
}


def canonical_json(snapshot: Snapshot) -> str:
    return json.dumps(
        snapshot.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def input_checksum(kind: str, snapshot: Snapshot, template_version: str) -> str:
    text = f"{kind}\n{template_version}\n{canonical_json(snapshot)}"
    return hashlib.sha256(text.encode()).hexdigest()


def case_ids(snapshot: Snapshot) -> list[uuid.UUID]:
    """The cases a document shows: whoever reads it must be allowed to see every one."""
    if isinstance(snapshot, Roster):
        return list(dict.fromkeys(p.case_id for p in snapshot.people))
    return [snapshot.case.case_id]
