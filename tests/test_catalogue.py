"""The Vietnamese catalogue is complete: every interface string in the code and the templates
has a Vietnamese translation that is not fuzzy, and the compiled catalogue matches it."""

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
VI = ROOT / "portal" / "translations" / "vi" / "LC_MESSAGES"


def _extracted(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-c", "from babel.messages.frontend import main; main()",
         "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def test_every_interface_string_has_a_vietnamese_translation(tmp_path):
    template = _extracted(tmp_path)
    with (VI / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        strings = translated.string if translated is not None else None
        if isinstance(strings, tuple | list):
            empty = not all(strings)
        else:
            empty = not strings
        if translated is None or empty or translated.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not missing, f"{len(missing)} strings without Vietnamese: {missing[:10]}"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _strings(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def test_the_compiled_vietnamese_catalogue_is_up_to_date():
    with (VI / "messages.po").open("rb") as handle:
        source = {
            _key(m.id): _strings(m.string) for m in read_po(handle)
            if m.id and m.string and not m.fuzzy
        }
    with (VI / "messages.mo").open("rb") as handle:
        compiled = {_key(m.id): _strings(m.string) for m in read_mo(handle) if m.id}
    stale = [key for key, value in source.items() if compiled.get(key) != value]
    assert not stale, f"messages.mo is older than messages.po; run make translations: {stale[:5]}"
