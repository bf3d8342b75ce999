"""Fixtures for the pure enrichment tests: synthetic photos and image files built with Pillow/numpy."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw


def _photo(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A photo-like RGB image: a smooth random colour field with a few random shapes on it."""
    rng = np.random.default_rng(seed)
    coarse = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    image = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        x1, y1 = x0 + int(rng.integers(40, width // 2)), y0 + int(rng.integers(40, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


@pytest.fixture
def photo() -> Callable[..., Image.Image]:
    """Factory: photo(seed, width=640, height=480) -> a deterministic photo-like RGB image."""
    return _photo


@pytest.fixture
def encode() -> Callable[..., bytes]:
    """Factory: encode(image, format='JPEG', **save_options) -> the encoded bytes."""

    def _encode(image: Image.Image, format: str = "JPEG", **options: object) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format, **options)
        return buffer.getvalue()

    return _encode


@pytest.fixture
def png_header_only() -> Callable[[int, int], bytes]:
    """Factory: a PNG that declares width x height greyscale pixels but carries almost no data.

    Decoding it for real would need width*height bytes: the shape of a decompression bomb.
    """

    def _png(width: int, height: int) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b"")
        )

    return _png
