"""Image hashes: robust to re-encoding and light edits, flips matched, bad input typed errors."""

import pytest
from PIL import Image, ImageEnhance, ImageOps

from enrich.images import ImageError, ImageHashes, hamming, hash_band_keys, image_hashes

NEAR = 10  # bits out of 64: what the linker will treat as "same photo"
FAR = 20


def _hashes(data: bytes) -> ImageHashes:
    result = image_hashes(data)
    assert isinstance(result, ImageHashes), result
    return result


@pytest.mark.parametrize(
    "edit",
    [
        lambda im: im,
        lambda im: im.resize((320, 240)),
        lambda im: im.resize((1024, 768)),
        lambda im: im.crop((16, 12, 624, 468)),
        lambda im: ImageEnhance.Brightness(im).enhance(1.3),
        lambda im: ImageEnhance.Contrast(im).enhance(0.8),
    ],
    ids=["re-encoded", "downscaled", "upscaled", "cropped-5pc", "brightened", "lower-contrast"],
)
def test_edited_copy_stays_within_a_small_phash_distance(photo, encode, edit):
    original = photo(1)
    copy = edit(original)
    a = _hashes(encode(original, quality=90))
    b = _hashes(encode(copy, quality=60))
    assert hamming(a.phash, b.phash) <= NEAR


def test_different_photos_are_far_apart(photo, encode):
    distances = [
        hamming(_hashes(encode(photo(i))).phash, _hashes(encode(photo(j))).phash)
        for i, j in [(1, 2), (3, 4), (5, 6), (7, 8)]
    ]
    assert min(distances) > FAR


def test_flipped_copy_matches_through_flipped_hashes(photo, encode):
    original = _hashes(encode(photo(1)))
    flipped = _hashes(encode(ImageOps.mirror(photo(1))))
    assert hamming(original.phash_flip, flipped.phash) <= NEAR
    assert hamming(original.dhash_flip, flipped.dhash) <= NEAR
    assert hamming(original.phash, flipped.phash) > FAR


def test_exif_orientation_is_applied_before_hashing(photo, encode):
    upright = photo(1)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a camera held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    rotated = _hashes(encode(stored, exif=exif.tobytes()))
    assert (rotated.width, rotated.height) == upright.size
    assert hamming(rotated.phash, _hashes(encode(upright)).phash) <= NEAR


def test_png_with_transparency_is_hashed(photo, encode):
    image = photo(1).convert("RGBA")
    image.putalpha(128)
    assert isinstance(image_hashes(encode(image, "PNG")), ImageHashes)


def test_hashes_are_16_hex_chars_and_size_is_reported(photo, encode):
    result = _hashes(encode(photo(1, 640, 480)))
    assert all(len(h) == 16 and int(h, 16) >= 0 for h in (result.phash, result.dhash, result.phash_flip))
    assert (result.width, result.height) == (640, 480)


def test_non_image_bytes_are_an_error():
    result = image_hashes(b"<html>not an image</html>")
    assert isinstance(result, ImageError) and result.reason == "not-an-image"


def test_empty_bytes_are_an_error():
    assert image_hashes(b"") == ImageError("empty", "no image bytes")


def test_truncated_jpeg_is_an_error(photo, encode):
    data = encode(photo(1))
    result = image_hashes(data[: len(data) // 2])
    assert isinstance(result, ImageError) and result.reason == "truncated"


def test_corrupt_jpeg_body_is_an_error(photo, encode):
    data = encode(photo(1))
    result = image_hashes(data[:200] + b"\x00\xff" * 2000)
    assert isinstance(result, ImageError) and result.reason in {"corrupt", "truncated"}


def test_decompression_bomb_is_an_error_without_decoding(png_header_only):
    result = image_hashes(png_header_only(30_000, 30_000), max_pixels=10**12)
    assert isinstance(result, ImageError) and result.reason == "decompression-bomb"


def test_image_over_the_pixel_limit_is_an_error(png_header_only):
    result = image_hashes(png_header_only(5_000, 5_000), max_pixels=1_000_000)
    assert isinstance(result, ImageError) and result.reason == "too-many-pixels"


def test_hamming_counts_differing_bits():
    assert hamming("0000000000000000", "000000000000000f") == 4
    assert hamming("ffffffffffffffff", "0000000000000000") == 64


def test_hash_band_keys_find_every_hash_within_radius_parts_minus_one():
    base = int("9f3a5c7e1b2d4f60", 16)
    for bits in [(0, 17, 40), (63, 62, 61), (1, 20, 33)]:
        other = base
        for bit in bits:
            other ^= 1 << bit
        a = set(hash_band_keys(f"{base:016x}", parts=4))
        b = set(hash_band_keys(f"{other:016x}", parts=4))
        assert a & b


def test_hash_band_keys_reject_uneven_splits():
    with pytest.raises(ValueError, match="hex-aligned"):
        hash_band_keys("0" * 16, parts=3)


def test_hash_query_keys_reach_every_hash_within_radius_seven():
    from enrich.images import hash_query_keys

    base = int("9f3a5c7e1b2d4f60", 16)
    other = base
    for bit in (0, 1, 16, 17, 32, 33, 48):  # 2 + 2 + 2 + 1 bits over the four 16-bit chunks
        other ^= 1 << bit
    assert set(hash_query_keys(f"{base:016x}")) & set(hash_band_keys(f"{other:016x}"))


def test_hash_query_keys_miss_a_hash_with_every_chunk_two_bits_away():
    from enrich.images import hash_query_keys

    base = int("9f3a5c7e1b2d4f60", 16)
    other = base
    for bit in (0, 1, 16, 17, 32, 33, 48, 49):
        other ^= 1 << bit
    assert not set(hash_query_keys(f"{base:016x}")) & set(hash_band_keys(f"{other:016x}"))



@pytest.mark.parametrize(("mode", "format"), [("1", "PNG"), ("L", "PNG"), ("P", "PNG"), ("LA", "PNG"), ("CMYK", "TIFF"), ("I", "TIFF"), ("F", "TIFF")])
def test_every_pixel_mode_takes_the_same_path_without_error(photo, encode, mode, format):
    result = image_hashes(encode(photo(1, 160, 120).convert(mode), format))
    assert isinstance(result, ImageHashes) and (result.width, result.height) == (160, 120)


def test_solid_colour_image_is_flagged_low_detail(encode):
    assert _hashes(encode(Image.new("RGB", (640, 480), (200, 30, 40)))).low_detail


def test_photo_is_not_low_detail(photo, encode):
    assert not _hashes(encode(photo(1))).low_detail


def test_text_instead_of_bytes_is_an_error():
    result = image_hashes("not bytes")  # type: ignore[arg-type]
    assert isinstance(result, ImageError) and result.reason == "not-an-image"


@pytest.mark.parametrize("format", ["JPEG", "PNG", "GIF", "TIFF", "WEBP", "BMP"])
def test_randomly_damaged_files_give_hashes_or_errors_never_exceptions(photo, encode, format):
    import random

    rnd = random.Random(format)
    original = encode(photo(1, 160, 120), format)
    for _ in range(60):
        damaged = bytearray(original)
        for _ in range(rnd.randint(1, 10)):
            damaged[rnd.randrange(len(damaged))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            damaged = damaged[: rnd.randrange(len(damaged))]
        assert isinstance(image_hashes(bytes(damaged)), ImageHashes | ImageError)


def test_the_memo_answers_image_hashes_own_result_and_decodes_a_reused_photo_once(photo, encode):
    from enrich.images import ImageMemo

    memo = ImageMemo(size=2)
    first, second, third = (encode(photo(seed, 160, 120), "JPEG") for seed in (1, 2, 3))
    assert memo.hashes(first) == image_hashes(first)
    assert memo.hashes(bytes(first)) == image_hashes(first) and memo.hits == 1  # equal bytes, another object
    assert memo.hashes(first[:300]) == image_hashes(first[:300])  # a damaged copy is not the photo
    assert memo.hashes(second) == image_hashes(second) and memo.hashes(third) == image_hashes(third)
    hits = memo.hits
    memo.hashes(first)  # forgotten (size 2): decoded again, same answer
    assert memo.hits == hits
    assert memo.hashes(b"") == ImageError("empty", "no image bytes")
    assert memo.hashes("not bytes") == image_hashes("not bytes")
