"""Procedural photos: base photos far apart in pHash space, variants of one base near.

A base photo's coarse luminance is a sum of the 8x8 lowest 2-D cosine modes with random signs, which is
exactly what pHash samples, so two bases differ in about half of the 64 bits (mean ~31.5; about 0.4 % of
pairs are within 20). Small coloured shapes on top add detail without moving those modes much. Variants
are bounded so pHash stays within ~10 bits (measured on 3,000 ads: 99.5 % <= 10, worst 18, from crops
near 12 % of the area; different bases: 99.6 % of pairs > 20, none <= 10): crop removes 3-12 % of the
*area* (the issue allows <= 15 %) near the centre, borders are <= 1 % of the width. A horizontal flip
negates the odd horizontal modes, so flipped variants are far in pHash on purpose (recorded as `flip`).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

WIDTH, HEIGHT = 640, 480
_MODES = 8
_FIELD_SCALE = 4  # the luminance field is computed at 1/4 resolution, then upscaled

# Every transform a variant may carry; truth records the names (and parameters) per image.
TRANSFORMS = ("resize", "quality", "crop", "border", "overlay", "brightness", "colour", "flip")
_OVERLAY_WORDS = ("NEW", "call now", "available", "VIP", "new in town", "sale", "real photo", "24/7")


@dataclass(frozen=True)
class ImageJob:
    """One image file to write: which base photo, and the transforms that make this variant."""

    file: str  # path relative to the world's images/ directory
    base_seed: int
    transforms: dict = field(default_factory=dict)
    fault: str | None = None  # None | "corrupt" | "oversized"


_ROWS = np.cos(np.pi * np.outer((np.arange(HEIGHT // _FIELD_SCALE) + 0.5) / (HEIGHT // _FIELD_SCALE), np.arange(_MODES)))
_COLS = np.cos(np.pi * np.outer((np.arange(WIDTH // _FIELD_SCALE) + 0.5) / (WIDTH // _FIELD_SCALE), np.arange(_MODES)))


def render_base(base_seed: int) -> Image.Image:
    """The base photo for a seed, WIDTH x HEIGHT RGB; deterministic."""
    rng = np.random.default_rng(base_seed)
    rnd = random.Random(base_seed)
    modes = np.arange(_MODES)
    coeffs = rng.choice([-1.0, 1.0], size=(_MODES, _MODES))
    coeffs /= 1.0 + 0.6 * (modes[:, None] + modes[None, :])
    coeffs[0, 0] = 0.0
    luminance = _ROWS @ coeffs @ _COLS.T
    luminance *= 100.0 / np.abs(luminance).max()
    # Colour at 1/4 resolution, then a nearest-neighbour upscale: the field is smooth, so the 4x4 steps are
    # a level or two apart, and this is several times cheaper than a bilinear upscale.
    tint, offset = rng.uniform(0.3, 1.0, 3), rng.uniform(60, 140, 3)
    pixels = offset[None, None, :] + 0.9 * tint[None, None, :] * luminance[:, :, None]
    small = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    img = small.resize((WIDTH, HEIGHT), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    for _ in range(rnd.randint(3, 6)):
        x0, y0 = rnd.randint(-50, WIDTH), rnd.randint(-50, HEIGHT)
        box = [x0, y0, x0 + rnd.randint(30, 120), y0 + rnd.randint(30, 120)]
        colour = tuple(rnd.randint(0, 255) for _ in range(3))
        (draw.ellipse if rnd.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


def plan_transforms(rnd: random.Random, allow_flip: bool = True) -> dict:
    """JPEG quality plus 0-4 other transforms with parameters; at most one geometric (crop or border)."""
    transforms: dict = {"quality": rnd.randint(30, 95)}
    if rnd.random() < 0.4:
        transforms["resize"] = round(rnd.uniform(0.5, 0.95), 3)
    geometric = rnd.random()
    if geometric < 0.35:
        transforms["crop"] = {"area": round(rnd.uniform(0.03, 0.12), 3),
                              "jitter_x": round(rnd.uniform(-0.2, 0.2), 3),
                              "jitter_y": round(rnd.uniform(-0.2, 0.2), 3)}
    elif geometric < 0.55:
        transforms["border"] = {"fraction": round(rnd.uniform(0.004, 0.01), 4),
                                "colour": rnd.choice([[255, 255, 255], [0, 0, 0], [128, 128, 128]])}
    if rnd.random() < 0.3:
        transforms["overlay"] = rnd.choice(_OVERLAY_WORDS)
    if rnd.random() < 0.3:
        transforms["brightness"] = round(rnd.uniform(0.7, 1.3), 3)
    if rnd.random() < 0.2:
        transforms["colour"] = round(rnd.uniform(0.5, 1.5), 3)
    if allow_flip and rnd.random() < 0.08:
        transforms["flip"] = True
    return transforms


def apply_transforms(img: Image.Image, transforms: dict) -> Image.Image:
    """Apply a planned variant to a base photo (everything except JPEG quality)."""
    if "resize" in transforms:
        scale = transforms["resize"]
        img = img.resize((max(16, int(img.width * scale)), max(16, int(img.height * scale))), Image.BILINEAR)
    if "crop" in transforms:
        crop = transforms["crop"]
        keep = (1.0 - crop["area"]) ** 0.5
        cw, ch = int(img.width * keep), int(img.height * keep)
        slack_x, slack_y = (img.width - cw) / 2, (img.height - ch) / 2
        x = int(slack_x + slack_x * crop["jitter_x"])
        y = int(slack_y + slack_y * crop["jitter_y"])
        img = img.crop((x, y, x + cw, y + ch))
    if "border" in transforms:
        border = transforms["border"]
        img = ImageOps.expand(img, border=max(2, int(img.width * border["fraction"])), fill=tuple(border["colour"]))
    if "brightness" in transforms:
        # A lookup table does what ImageEnhance.Brightness does (scale every channel) several times faster.
        factor = transforms["brightness"]
        img = img.point([min(255, int(level * factor)) for level in range(256)] * 3)
    if "colour" in transforms:
        img = ImageEnhance.Color(img).enhance(transforms["colour"])
    if "overlay" in transforms:
        ImageDraw.Draw(img).text((12, img.height - 28), transforms["overlay"], fill=(255, 255, 255))
    if transforms.get("flip"):
        img = ImageOps.mirror(img)
    return img


def encode_jpeg(img: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _oversized(base: Image.Image) -> bytes:
    """A real but huge JPEG (6000x4500), the kind a crawler should refuse or downscale."""
    return encode_jpeg(base.resize((6000, 4500), Image.NEAREST), 90)


def write_images(images_dir: str, jobs: list[ImageJob]) -> int:
    """Render and write a batch of jobs (sorted by base for cache hits); returns bytes written."""
    root = Path(images_dir)
    cached_seed, cached_base = None, None
    written = 0
    for job in jobs:
        if job.base_seed != cached_seed:
            cached_seed, cached_base = job.base_seed, render_base(job.base_seed)
        if job.fault == "oversized":
            data = _oversized(cached_base)
        else:
            variant = apply_transforms(cached_base, job.transforms)
            data = encode_jpeg(variant, job.transforms.get("quality", 85))
            if job.fault == "corrupt":
                # A JPEG header followed by garbage: the file opens as image/jpeg and fails to decode.
                data = data[:200] + bytes(random.Random(job.base_seed).randbytes(300))
        path = root / job.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += len(data)
    return written
