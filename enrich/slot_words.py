"""Small word lists for slot masking: common first names and big cities, folded to lower case.

Ads fill a template with a name and a place; the names and cities below are the common fillers.
They are deliberately short lists (a few hundred words): masking costs one dictionary lookup per
word, and a missed name only makes two copies of a template a little less alike. Words that are
also common English words ("may", "june", "nice", "reading") are left out.
"""

from __future__ import annotations

FIRST_NAMES = frozenset(
    """
    abigail addison adriana alexandra alina alisa allison alyssa amber amelia ana anastasia andrea angela
    angelina anna aria ashley audrey ava ayse bella bianca brittany brooklyn camila candy carmen charlotte
    chloe christina claire courtney crystal dana daniela daria daisy destiny diana elena elif ella emily
    emma erica eva evelyn fatima fernanda gabriela grace hannah harper heather ioana irina isabella ivy
    jade jasmine jennifer jessica julia karina kate katya kayla kelly kim kristina ksenia laura lauren
    layla lea leah leila lena lily lina linh lola lucia lucy luna madison maria mariana marina megan mei
    melissa mia michelle mila monica nadia natalia natalie natasha nicole nina nora olga olivia paula
    rachel riley roxana ruby sabrina sakura samantha sara sarah sasha savannah scarlett skylar sofia
    sophia stephanie svetlana tatiana tiffany tina valentina vanessa vera veronica victoria yasmin yuki
    yulia zoe zoey
    """.split()
)
"""Common first names in ads across the regions we watch (lower case, accents folded)."""

CITIES = frozenset(
    """
    amsterdam athens atlanta austin baltimore bangkok barcelona berlin birmingham boston bratislava
    brussels bucharest budapest cairo chicago cologne copenhagen dallas denver detroit dortmund dubai
    dublin dusseldorf edinburgh essen frankfurt geneva glasgow hamburg helsinki houston istanbul
    johannesburg kiev kyiv krakow leeds lisbon liverpool london lyon madrid manchester marseille
    melbourne miami milan minsk montreal moscow munich naples nashville oslo paris philadelphia phoenix
    porto prague riga rome rotterdam seattle seville sofia stockholm stuttgart sydney tallinn toronto
    turin valencia vancouver vienna vilnius warsaw zagreb zurich
    """.split()
)
"""Big cities (one word, lower case); two-word ones are in `CITY_PAIRS`, the ad's own city comes from the caller."""

CITY_PAIRS = (
    "new york", "los angeles", "las vegas", "san francisco", "san diego", "san antonio", "new orleans",
    "hong kong", "tel aviv", "buenos aires", "mexico city", "cluj napoca", "st petersburg", "salt lake",
)  # fmt: skip
