"""Checks of an uploaded logo from its bytes alone (pure module, no image library).

PNG and JPEG only: the structure is walked far enough to know the format really is what it
claims and to read the pixel size from the header (PNG IHDR with its CRC, JPEG SOFn marker).
SVG is refused: an SVG is a document that can carry scripts and external references, and a safe
sanitiser would be a new dependency for little gain (a PNG export works everywhere).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["MAX_BYTES", "MAX_PIXELS_SIDE", "LogoInfo", "LogoRejected", "inspect_logo"]

MAX_BYTES = 512 * 1024
MAX_PIXELS_SIDE = 2000
MIN_PIXELS_SIDE = 16
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carrying the image size (not DHT C4, JPG C8, DAC CC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class LogoRejected(ValueError):
    """Why the file cannot be a logo; the message is safe to show an owner."""


@dataclass(frozen=True, slots=True)
class LogoInfo:
    content_type: str
    width: int
    height: int


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise LogoRejected("This PNG file is damaged (no image header).")
    length = struct.unpack(">I", data[8:12])[0]
    if length != 13:
        raise LogoRejected("This PNG file is damaged (bad image header).")
    chunk = data[12:29]
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(chunk) & 0xFFFFFFFF != crc:
        raise LogoRejected("This PNG file is damaged (checksum mismatch).")
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise LogoRejected("This PNG file is incomplete (it does not end properly).")
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise LogoRejected("This JPEG file is damaged.")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if length < 2:
            raise LogoRejected("This JPEG file is damaged.")
        if marker in _JPEG_SOF:
            if position + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise LogoRejected("This JPEG file is incomplete (it does not end properly).")
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            break
        position += 2 + length
    raise LogoRejected("This JPEG file is damaged (no image size found).")


def inspect_logo(data: bytes, *, declared_name: str = "") -> LogoInfo:
    """The logo's real type and size, or LogoRejected with a clear reason."""
    name = declared_name.lower()
    head = data[:512].lstrip().lower()
    if name.endswith((".svg", ".svgz")) or head.startswith((b"<?xml", b"<svg", b"<!doctype svg")):
        raise LogoRejected(
            "SVG logos are not accepted, because an SVG file can carry scripts. "
            "Export your logo as PNG (transparent background) and upload that."
        )
    if not data:
        raise LogoRejected("The file is empty.")
    if len(data) > MAX_BYTES:
        raise LogoRejected(
            f"The file is {len(data) // 1024} KB; logos may be at most {MAX_BYTES // 1024} KB."
        )
    if data.startswith(_PNG_SIGNATURE):
        width, height = _png_size(data)
        content_type = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        width, height = _jpeg_size(data)
        content_type = "image/jpeg"
    else:
        raise LogoRejected("This file is not a PNG or JPEG image.")
    if width < MIN_PIXELS_SIDE or height < MIN_PIXELS_SIDE:
        raise LogoRejected(
            f"The image is {width}×{height} pixels; use at least "
            f"{MIN_PIXELS_SIDE}×{MIN_PIXELS_SIDE}."
        )
    if width > MAX_PIXELS_SIDE or height > MAX_PIXELS_SIDE:
        raise LogoRejected(
            f"The image is {width}×{height} pixels; logos may be at most "
            f"{MAX_PIXELS_SIDE}×{MAX_PIXELS_SIDE}."
        )
    return LogoInfo(content_type=content_type, width=width, height=height)
