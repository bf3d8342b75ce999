"""Text normalisation: folding, emoji, leetspeak, caps and non-text input."""

from enrich.normalise import fold_with_offsets, normalise_text


def test_case_and_accents_fold_to_plain_lower_case():
    assert normalise_text("Café NAÏVE Señorita").text == "cafe naive senorita"


def test_fullwidth_and_compatibility_forms_fold_via_nfkc():
    assert normalise_text("Ｈｅｌｌｏ ﬁne").text == "hello fine"


def test_keycap_circled_and_fullwidth_digits_become_ascii_digits():
    assert normalise_text("5️⃣5️⃣ ①② ５６ 🔟").text == "55 12 56 10"


def test_decorative_emoji_become_spaces_and_whitespace_collapses():
    assert normalise_text("hot💋girl  \n\t 😘😘 here").text == "hot girl here"


def test_leetspeak_in_words_is_mapped():
    assert normalise_text("S3XY h0t b4by $weet").text == "sexy hot baby sweet"


def test_leetspeak_mapping_leaves_phone_numbers_prices_and_units_alone():
    text = "call 555-123-4567 $150 5ft 34dd 2hr 24/7"
    assert normalise_text(text).text == text


def test_leetspeak_mapping_leaves_emails_urls_and_handles_alone():
    text = "jane01@mail.com https://t.example.org/jane01 @jane_01"
    assert normalise_text(text).text == text


def test_huge_text_is_capped_and_noted():
    result = normalise_text("word " * 10_000, max_chars=1_000)
    assert len(result.text) <= 1_000
    assert "truncated:50000>1000" in result.notes


def test_none_gives_empty_text_with_a_note():
    result = normalise_text(None)
    assert result.text == ""
    assert "not-text:NoneType" in result.notes


def test_invalid_utf8_bytes_are_decoded_with_a_note():
    result = normalise_text(b"hello \xff world")
    assert result.text == "hello world"
    assert "invalid-utf8" in result.notes


def test_folded_offsets_point_back_into_the_original_text():
    original = "Call 5️⃣5️⃣5️⃣ now"
    folded = fold_with_offsets(original)
    start = folded.text.index("555")
    span = folded.source_span(start, start + 3)
    assert original[span[0] : span[1]] == "5️⃣5️⃣5️⃣"


def test_long_token_without_spaces_is_kept_whole():
    assert normalise_text("a" * 5_000 + " h0t").text == "a" * 5_000 + " hot"


def test_heavily_leeted_words_are_repaired():
    assert normalise_text("c0575 7r347m3n75 m3554g3 574y v154").text == "costs treatments message stay visa"


def test_numbers_written_with_letter_lookalikes_keep_their_digits():
    assert normalise_text("5o5l234567").text == "5o5l234567"


def test_identifier_folding_reads_other_scripts_lookalikes_inside_latin_or_digit_tokens():
    from enrich.normalise import fold_identifiers

    assert fold_identifiers("+7 9О1 ΟΙ23 @јane").text == "+7 9o1 oi23 @jane"  # Cyrillic O and j, Greek O and I


def test_identifier_folding_leaves_text_in_other_scripts_as_written():
    from enrich.normalise import fold_identifiers

    assert fold_identifiers("Привет, звоните").text == "привет, звоните"


def test_identifier_folding_keeps_offsets():
    from enrich.normalise import fold_identifiers

    original = "tel 9О1 5️⃣"
    folded = fold_identifiers(original)
    assert original[slice(*folded.source_span(4, 7))] == "9О1"


def test_normalised_text_keeps_lookalike_letters_of_other_scripts():
    assert normalise_text("9О1 Ελλάδα").text == "9о1 ελλαδα"  # MinHash input unchanged by identifier folding
