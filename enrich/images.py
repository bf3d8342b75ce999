"""Perceptual image hashes for linking ads that reuse photos, and keys for Hamming-radius search.

Every image takes the same path: decode with Pillow (pixel limit checked before decoding, Pillow's
decompression-bomb check turned into an error), EXIF orientation applied, transparency flattened
onto white, converted to RGB and then to 8-bit greyscale, then reduced once to 32x32 (pHash) and
9x8 (dHash) with Lanczos. Mirrored hashes come from mirroring those reduced images, so a
horizontally flipped copy of a photo matches the original's `phash_flip` / `dhash_flip`.

Measured on 6,000 photos of the 20k-ad demo world, seed 11 (`bench/enrich_quality.py`): duplicate
pairs (same base photo after resize, crop, border, overlay, brightness, colour, JPEG quality, flip)
lie at flip-aware pHash distance p50 2, p99 10; distinct photos at 12 or more. pHash <= 10 (either
way round) gives precision 1.000 and recall 0.996; adding dHash <= 16 as a second check keeps
precision 1.000 at recall 0.995. Speed: ~930 images/s of 640x480 JPEG on 2 cores by CPU time
(`bench/enrich_speed.py`).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections import OrderedDict
from itertools import combinations
from dataclasses import dataclass
from typing import Literal

import imagehash
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 20_000_000
"""Largest image (width x height) decoded: 20 MP covers 12 MP camera originals; bigger ones are rejected unread."""

LOW_DETAIL_STD = 4.0
"""Grey levels (0-255): below this standard deviation an image is too uniform for its hashes to mean anything."""

_EXIF_ORIENTATION = 0x0112
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")

ImageErrorReason = Literal["empty", "not-an-image", "too-many-pixels", "decompression-bomb", "truncated", "corrupt"]


@dataclass(frozen=True)
class ImageHashes:
    """64-bit perceptual hashes as 16-char lower-case hex, plus the decoded size in pixels.

    width/height are after EXIF transpose. `*_flip` are the hashes of the horizontally mirrored image.
    low_detail: the image is almost uniform (grey-level standard deviation below
    `LOW_DETAIL_STD` on the 32x32 reduction, e.g. a blank or solid-colour placeholder); all such
    images hash alike, so their hashes must not count as evidence.
    """

    phash: str
    dhash: str
    phash_flip: str
    dhash_flip: str
    width: int
    height: int
    low_detail: bool = False


@dataclass(frozen=True)
class ImageError:
    """Why an image could not be hashed; `detail` names the decoder's complaint for a person to read."""

    reason: ImageErrorReason
    detail: str


def image_hashes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHashes | ImageError:
    """Hash image bytes; never raises for bad input, returns `ImageError` instead.

    Reasons: 'empty' (no bytes), 'not-an-image' (format not recognised, or not bytes at all), 'too-many-pixels'
    (width x height > max_pixels, checked from the header before decoding), 'decompression-bomb'
    (Pillow's own bomb check), 'truncated' (data ends early), 'corrupt' (any other decode failure).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        return ImageError("not-an-image", f"expected image bytes, got {type(data).__name__}")
    if not data:
        return ImageError("empty", "no image bytes")
    try:
        with warnings.catch_warnings():
            # Decoder chatter ("Corrupt EXIF data", "Truncated File Read") is not worth a log line per
            # image: what cannot be decoded raises below. A bomb warning, though, is an error.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return ImageError(
                        "too-many-pixels", f"{width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}"
                    )
                image.load()
                grey = _greyscale(image)
    except UnidentifiedImageError as error:
        # Known image magic that Pillow cannot read is a damaged image, not some other file type.
        reason: ImageErrorReason = "corrupt" if data.startswith(_IMAGE_MAGIC) else "not-an-image"
        return ImageError(reason, str(error))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return ImageError("decompression-bomb", str(error))
    except OSError as error:
        reason = "truncated" if "truncated" in str(error).lower() else "corrupt"
        return ImageError(reason, str(error))
    except (ValueError, SyntaxError, EOFError, IndexError, TypeError, MemoryError) as error:
        # Pillow plugins raise these on malformed headers and chunks.
        return ImageError("corrupt", f"{type(error).__name__}: {error}")
    return _hashes(grey)


class ImageMemo:
    """`image_hashes` of bytes seen before, by their SHA-256: a photo shown by many ads (what a
    controller's ads do, and what linking looks for) is decoded once per process, not once per ad.
    Keyed by the bytes themselves, not by a name or path: equal keys are equal images. Bounded:
    the least recently asked are forgotten first (an entry is ~0.5 KB)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._known: OrderedDict[bytes, ImageHashes | ImageError] = OrderedDict()
        self.hits = 0

    def hashes(self, data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageHashes | ImageError:
        if not isinstance(data, bytes | bytearray | memoryview):
            return image_hashes(data, max_pixels)
        key = hashlib.sha256(data).digest() + max_pixels.to_bytes(8, "little")
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            self.hits += 1
            return known
        result = self._known[key] = image_hashes(data, max_pixels)
        if len(self._known) > self.size:
            self._known.popitem(last=False)
        return result


def _greyscale(image: Image.Image) -> Image.Image:
    """The one preprocessing path: EXIF transpose, alpha flattened on white, RGB, then greyscale."""
    if image.getexif().get(_EXIF_ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image.convert("L")


def _hashes(grey: Image.Image) -> ImageHashes:
    # reducing_gap: box-reduce by an integer factor first, then Lanczos; ~6x faster than a plain
    # Lanczos resize of a 640x480 photo, and the same hashes on our test photos (bench/enrich_speed.py).
    small_p = grey.resize((32, 32), Image.Resampling.LANCZOS, reducing_gap=3.0)
    small_d = grey.resize((9, 8), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # imagehash resizes to these same sizes internally, so passing reduced images changes nothing.
    return ImageHashes(
        phash=str(imagehash.phash(small_p)),
        dhash=str(imagehash.dhash(small_d)),
        phash_flip=str(imagehash.phash(ImageOps.mirror(small_p))),
        dhash_flip=str(imagehash.dhash(ImageOps.mirror(small_d))),
        width=grey.width,
        height=grey.height,
        low_detail=float(np.asarray(small_p, dtype=np.float32).std()) < LOW_DETAIL_STD,
    )


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two equal-length hex hashes (0..64 for our 16-char hashes).

    Raises ValueError for hashes of different lengths or non-hex input: that is a programming error.
    """
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes differ in length: {a_hex!r} vs {b_hex!r}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def hash_band_keys(hex_hash: str, parts: int = 4, prefix: str = "p") -> list[str]:
    """Split a hash into `parts` contiguous bit chunks as keywords '<prefix><parts>.<i>:<chunk hex>' (the stored side).

    Pigeonhole: two hashes within Hamming distance r < parts agree exactly on at least one chunk;
    query with `hash_query_keys` to reach further. 64 bits must split into hex-aligned chunks:
    parts in {1, 2, 4, 8, 16}; other values raise ValueError. Use different prefixes ('p' for pHash,
    'd' for dHash) so keys of different hashes never mix.
    """
    return [f"{prefix}{parts}.{i}:{chunk}" for i, chunk in enumerate(_chunks(hex_hash, parts))]


def hash_query_keys(hex_hash: str, parts: int = 4, flips: int = 1, prefix: str = "p") -> list[str]:
    """Keys to search for hashes near `hex_hash`: each chunk as is and with up to `flips` of its bits flipped.

    Multi-index hashing (Norouzi et al. 2012): a stored hash within distance parts * (flips + 1) - 1
    shares at least one key with these, guaranteed; with the defaults (4 x 16-bit chunks, 1 flip)
    radius 7 is guaranteed and, on 6,000 photos of the 20k-ad demo world (seed 11), 99.6% of
    duplicate pairs (pHash distance up to 16) are found while 0.38% of all pairs become candidates;
    without flips 90.9% and 0.05% (`bench/enrich_quality.py`).
    Costs parts * (1 + width + ... + C(width, flips)) terms: 68 for the defaults.
    """
    if flips < 0:
        raise ValueError(f"flips must be >= 0, got {flips}")
    keys = []
    for i, chunk in enumerate(_chunks(hex_hash, parts)):
        width = len(chunk) * 4
        value = int(chunk, 16)
        for count in range(flips + 1):
            for bits in combinations(range(width), count):
                flipped = value
                for bit in bits:
                    flipped ^= 1 << bit
                keys.append(f"{prefix}{parts}.{i}:{flipped:0{len(chunk)}x}")
    return keys


def _chunks(hex_hash: str, parts: int) -> list[str]:
    bits = len(hex_hash) * 4
    if parts <= 0 or bits % parts or (bits // parts) % 4:
        raise ValueError(f"cannot split a {bits}-bit hash into {parts} hex-aligned parts")
    width = len(hex_hash) // parts
    return [hex_hash[i * width : (i + 1) * width].lower() for i in range(parts)]
