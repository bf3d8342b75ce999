"""Content-addressed image store: one file per unique image, named by the sha256 of its bytes.

`inspect_image` is pure (bytes in, facts out) with Pillow's decompression-bomb protection on;
`ImageStore.put` is the only place that writes, atomically (temp file + rename).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 8 * 2**20
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class ImageFacts:
    sha256: str
    bytes: int
    width: int | None = None
    height: int | None = None
    format: str | None = None
    # corrupt | not_an_image | too_many_pixels | too_large, then ": " and the reason (the exception's type)
    error: str | None = None

    @property
    def problem(self) -> str | None:
        """The kind of error alone (`corrupt`), for counting."""
        return self.error.split(":", 1)[0] if self.error else None


def inspect_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageFacts:
    """Hash and decode `data`; never raises: a bad image comes back with `error` set."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > max_bytes:
        return ImageFacts(digest, len(data), error=f"too_large: more than {max_bytes} bytes")
    if not data:
        return ImageFacts(digest, 0, error="not_an_image: empty body")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between max_pixels and twice that; we refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    return ImageFacts(digest, len(data), width, height, img.format,
                                      f"too_many_pixels: {width}x{height}, more than {max_pixels}")
                fmt = img.format
                if fmt == "JPEG":
                    # Decode at 1/8 scale: every byte is still read, so truncation and corruption
                    # still fail here, for a fraction of the full decode's CPU.
                    img.draft("L", (max(1, width // 8), max(1, height // 8)))
                img.load()  # a truncated or corrupt body fails here, not later in enrichment
                return ImageFacts(digest, len(data), width, height, fmt)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        return ImageFacts(digest, len(data), error=f"too_many_pixels: {type(exc).__name__}")
    except UnidentifiedImageError:
        return ImageFacts(digest, len(data), error="not_an_image: no image format recognised")
    except Exception as exc:  # noqa: BLE001 - see below
        # Pillow's decoders meet hostile bytes: besides OSError, SyntaxError and ValueError they raise
        # EOFError, IndexError, TypeError, KeyError, struct.error, ZeroDivisionError, MemoryError...
        # Every one means this image is unusable, never that the ad is: recorded on the image, counted.
        return ImageFacts(digest, len(data), error=f"corrupt: {type(exc).__name__}: {str(exc)[:120]}")


class ImageStore:
    """Files under `root/ab/cd/<sha256>.<ext>`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def relative_path(self, facts: ImageFacts) -> str:
        ext = (facts.format or "bin").lower().replace("jpeg", "jpg")
        return f"{facts.sha256[:2]}/{facts.sha256[2:4]}/{facts.sha256}.{ext}"

    def put(self, data: bytes, facts: ImageFacts) -> tuple[str, bool]:
        """Store the bytes once; returns (relative path, whether this call wrote the file)."""
        rel = self.relative_path(facts)
        target = self.root / rel
        if target.exists():
            return rel, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return rel, True
