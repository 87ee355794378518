"""Images made in the tests: a phone photo with EXIF (GPS and camera), and non-images."""

from __future__ import annotations

import io

from PIL import Image

GPS_TAG = 0x8825
MAKE_TAG = 0x010F


def phone_photo(size: tuple[int, int] = (640, 480), colour: str = "#3a7bd5") -> bytes:
    """A JPEG like a phone's: it says where it was taken and with what."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[MAKE_TAG] = "TestPhone"
    exif[GPS_TAG] = {1: "N", 2: (30.0, 15.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


NOT_AN_IMAGE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
