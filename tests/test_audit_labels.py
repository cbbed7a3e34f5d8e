"""Every kind of event the portal records reads as a label and a sentence in the audit log,
never as a raw code."""

import re
from pathlib import Path

from portal.services.audit import ACTION_LABELS
from portal.services.audit_log import SENTENCES

ROOT = Path(__file__).resolve().parent.parent
RECORDED = re.compile(
    r'audit\.record\(\s*"([a-z_]+\.[a-z_]+)"(?:\s+if\s+\w+\s+else\s+"([a-z_.]+)")?')


def _recorded_actions() -> set[str]:
    actions: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
            actions.update(name for name in match.groups() if name)
    return actions


def test_every_recorded_action_has_a_label_and_a_sentence():
    actions = _recorded_actions()
    assert {"user.deactivate", "checkin.check_in", "booklet.edition"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(actions - {key.split(":")[0] for key in SENTENCES}) == []
