"""Media store and WhatsApp's media rules (docs/external-apis/whatsapp.md#media)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field

MB = 1024 * 1024

# base MIME -> (kind, max bytes) — docs/external-apis/whatsapp.md#media
SUPPORTED: dict[str, tuple[str, int]] = {
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
    "image/webp": ("sticker", 500 * 1024),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "document",
        100 * MB,
    ),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "document",
        100 * MB,
    ),
}


def base_mime(mime: str) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


def sniff(data: bytes) -> str | None:
    """Best-effort content type from magic bytes (None = unknown / not checkable)."""
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"  # Matroska/WebM (what Chrome's MediaRecorder produces)
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"#!AMR"):
        return "audio/amr"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio/aac"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand.startswith(b"3g"):
            return "video/3gpp"
        return "video/mp4"  # mp4 container; audio/mp4 also accepted for it
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    return None


def ogg_is_opus(data: bytes) -> bool:
    # The first Ogg page carries the codec identification header.
    return b"OpusHead" in data[:256]


def check_upload(mime: str, data: bytes) -> str | None:
    """None when WhatsApp would accept the upload, else the 131053-style reason."""
    bm = base_mime(mime)
    if bm not in SUPPORTED:
        return f"Unsupported media type {bm or '(none)'}."
    _kind, limit = SUPPORTED[bm]
    if not data:
        return "The uploaded file is empty."
    if len(data) > limit:
        return f"File size {len(data)} exceeds the {limit} bytes limit for {bm}."
    found = sniff(data)
    if found is None:
        return (
            None  # cannot tell (e.g. text/plain, AAC without ADTS): accept like a lenient reading
        )
    compatible = {
        "audio/mp4": {"audio/mp4", "video/mp4"},
        "video/mp4": {"video/mp4", "audio/mp4"},
    }.get(bm, {bm})
    if found not in compatible:
        return f"The file content ({found}) does not match the declared type {bm}."
    if bm == "audio/ogg" and not ogg_is_opus(data):
        return "OGG audio must use the Opus codec."
    return None


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_media_id() -> str:
    return str(1_000_000_000_000_000 + secrets.randbelow(8_999_999_999_999_999))


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    origin: str  # "business" (uploaded via Graph) or "guest" (inbound)
    filename: str | None = None
    created_at: float = field(default_factory=time.time)
    deleted: bool = False

    @property
    def expires_at(self) -> float:
        # uploaded media: 30 days; media received in a webhook: 7 days (docs/external-apis/whatsapp.md#media)
        days = 30 if self.origin == "business" else 7
        return self.created_at + days * 86400

    def info(self) -> dict:
        return {
            "mime_type": self.mime_type,
            "sha256": sha256_hex(self.data),
            "file_size": len(self.data),
            "id": self.id,
        }
