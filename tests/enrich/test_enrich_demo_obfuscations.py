"""Every phone obfuscation the demo world generator writes is read back to the right E.164 number.

This ties the extractor to the generator's contract (demo.text.obfuscate_phone): when the generator
learns a new trick, this test says so before the quality benchmark does.
"""

import random

import pytest

from demo.population import COUNTRIES, random_phone
from demo.text import OBFUSCATIONS, PLACEHOLDER_PHONES, obfuscate_phone, phone_display
from enrich.identifiers import extract_ad_contacts


@pytest.mark.parametrize("kind", OBFUSCATIONS)
@pytest.mark.parametrize("country", sorted(COUNTRIES))
def test_demo_obfuscation_is_recovered_at_home_and_abroad(kind, country):
    rnd = random.Random(f"{kind}:{country}")
    for ad_country in (country, "US" if country != "US" else "GB"):  # national and international display
        for _ in range(4):
            phone = random_phone(country, rnd)
            main, tail = obfuscate_phone(phone_display(phone, ad_country), kind, rnd)
            fields = {
                "title": "Room for rent",
                "body": "Nice room, close to the metro." + (f" Rest of the number: {tail}" if tail else ""),
                "contact_text": f"Call: {main} | Telegram: @sunny_star12",
            }
            phones = [c.normalised for c in extract_ad_contacts(fields, ad_country) if c.kind == "phone"]
            assert phones == [phone], (main, tail)


@pytest.mark.parametrize("placeholder", PLACEHOLDER_PHONES)
@pytest.mark.parametrize("country", sorted(COUNTRIES))
def test_demo_placeholder_phones_are_flagged(placeholder, country):
    contacts = extract_ad_contacts({"contact_text": f"Tel: {placeholder}"}, country)
    assert [c.placeholder for c in contacts if c.kind == "phone"] == [True]
