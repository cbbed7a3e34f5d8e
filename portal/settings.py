"""The constants said once: time zone, languages, paper-kind labels, where the fonts and the PDF
templates live, and how a file's sha256 is computed. Everything else imports them from here."""

from __future__ import annotations

import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Vietnam time: UTC+7 all year, no daylight saving.
TIME_ZONE_NAME = "Asia/Ho_Chi_Minh"
TIME_ZONE = ZoneInfo(TIME_ZONE_NAME)

# Vietnamese first; English second.
LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

# A paper kind's label is said once, on the enum: models.AssignmentKind.label / .label_vi.

# The bundled Liberation fonts (OFL, with their licence) and the booklet's own templates.
FONT_DIR = PROJECT_ROOT / "portal" / "static" / "fonts" / "liberation"
PDF_TEMPLATE_DIR = PROJECT_ROOT / "templates" / "pdf"

_CHUNK = 1 << 20


def sha256_file(path: Path | str) -> tuple[str, int]:
    """The hex sha256 of a file and its size in bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size



def converted_path(converter_version: str, sha256: str) -> str:
    """Where the normalised PDF of an uploaded revision lives, relative to uploads/."""
    return f"{converted_folder(converter_version)}{sha256}.pdf"


def converted_folder(converter_version: str) -> str:
    """The folder (relative to uploads/, with its slash) of one converter version's PDFs."""
    return f"converted/{converter_version}/"
