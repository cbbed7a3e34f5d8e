"""The audit log: who did what, when. Added to the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from ..extensions import db
from ..models import AuditEvent, User


def record(action: str, actor: User | None = None, target: str = "", **detail: Any) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor,
        target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )
    db.session.add(event)
    return event
