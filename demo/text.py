"""Ad text: non-explicit phrase banks per category, controller templates, phone obfuscation, text noise.

Everything here is pure and driven by a `random.Random` the caller seeds, so a world is reproducible.
"""

from __future__ import annotations

import functools
import random
import re

import phonenumbers
from phonenumbers import PhoneNumberFormat

CATEGORIES = ("jobs", "wellness", "rentals", "goods", "services")
CATEGORY_LABELS = {
    "jobs": "Jobs & recruitment abroad",
    "wellness": "Massage & wellness",
    "rentals": "Rentals",
    "goods": "Goods for sale",
    "services": "Services",
}

NAMES = ("Anna", "Maria", "Elena", "Sofia", "Irina", "Olga", "Nina", "Daria", "Lina", "Mila", "Sara", "Eva",
         "Kate", "Lucy", "Jade", "Nora", "Vera", "Alina", "Diana", "Tina", "Rosa", "Lea", "Ivy", "Zoe")
DESTINATIONS = ("Dubai", "London", "Milan", "Madrid", "Berlin", "Vienna", "Istanbul", "Athens", "Zurich", "Paris")

TITLES = {
    "jobs": ("{job} wanted in {dest}, travel paid", "Work abroad: {job} in {dest}", "Hiring {job}s for {dest}",
             "{job} job {dest} - accommodation included", "Urgent: {job} positions in {dest}"),
    "wellness": ("Relaxing massage in {city}", "{name}, new in {city} - wellness", "Spa treatments {city}",
                 "Professional massage by {name}", "Wellness studio {city} - open late"),
    "rentals": ("Room for rent in {city}", "Shared flat {city}, bills included", "Studio near centre of {city}",
                "Rooms for workers in {city}", "Furnished room {city}"),
    "goods": ("{item} for sale", "Used {item}, good condition", "{item} - quick sale", "Selling my {item}",
              "Almost new {item}"),
    "services": ("{service} in {city}", "Reliable {service}, fair prices", "{service} - free quote",
                 "Experienced {service} available", "{service} {city} and around"),
}
JOBS = ("waitress", "hostess", "dancer", "nanny", "cleaner", "hotel maid", "model", "bar staff", "au pair",
        "fruit picker", "factory worker", "caregiver")
ITEMS = ("bicycle", "sofa", "phone", "laptop", "washing machine", "baby stroller", "desk", "guitar",
         "winter jacket", "TV", "camera", "dining table")
SERVICES = ("house cleaning", "moving help", "maths tutoring", "plumbing", "painting", "garden work",
            "computer repair", "dog walking", "photography", "translation")

# Sections of a body; a template picks one sentence per section, then fixes each [a|b|c] choice once, so
# one poster's ads share wording while unrelated posters rarely write the same text. Slots: {name} {age}
# {price} {city} {dest} {date} {job} {item} {service} {currency}.
SENTENCES = {
    "jobs": (
        ("[Agency|Company|Our office] [looking for|searching for|needs] girls {age}-30 for work as {job} in {dest}.",
         "We [recruit|hire|are looking for] young women for {job} [jobs|work|positions] in {dest}.",
         "[Good|Great|Rare|Real] opportunity for {job} in {dest}, [start|starting] {date}.",
         "Looking for {job} to work in {dest} [from|starting] {date}, [full time|long term|seasonal]."),
        ("[Flight|Ticket|Travel] and visa paid by the [employer|company|agency].",
         "Travel costs [covered|paid for you], you pay back later from [salary|your first wages].",
         "We arrange [passport|papers|travel] and documents for you, [no worries|easy|fast].",
         "No experience and no [language|English|papers] needed."),
        ("Salary up to {price} {currency} per week[| guaranteed| and more].", "Earn {price} {currency} [weekly|each week], [cash|paid in cash|net].",
         "Pay {price} {currency} a week plus [tips|bonus|extras].", "Income from {price} {currency} per week[| for hard workers]."),
        ("[Accommodation|Housing|Room] provided, [shared room|with other girls|close to work].",
         "Free [housing|accommodation] near the [workplace|hotel|club].", "Living with the [team|other workers], [all included|food included]."),
        ("Contact {name} for [details|more information|an interview].", "Ask for {name}, [quick|fast] answer.",
         "Send a message to {name} [today|now|right away]."),
    ),
    "wellness": (
        ("Hello, I am {name}, {age} years old, new in {city}.", "Welcome to our [studio|salon|place] in {city}.",
         "{name} offers [relaxing|calming|soothing] treatments in {city}.",
         "New [team|girls|staff] in {city}, [friendly and discreet|kind and relaxed|always smiling]."),
        ("[Relaxing|Soothing|Deep] full body massage, [hot stones|foot care|oils] and [aromatherapy|music|candles].",
         "[Classic|Swedish] and [Thai|shiatsu|sports] massage.", "[Calm|Quiet|Clean] atmosphere, shower available.",
         "Private apartment, [easy parking|near the station|central location]."),
        ("One hour {price} {currency}[|, half hour less].", "Prices from {price} {currency}.",
         "Special offer {price} {currency} [this week|today|for new clients]."),
        ("Open every day [10-22|9-23|12-24].", "Available from {date}, [late|evening|weekend] appointments possible.",
         "Appointments only, [call|text|write] before."),
        ("Ask for {name}.", "Message {name} for a [booking|visit|time].", "Booking by [phone or chat|message only|phone]."),
    ),
    "rentals": (
        ("Room available in {city} from {date}.", "[Furnished|Bright|Large] room in a [quiet|nice|safe] street of {city}.",
         "Shared [apartment|flat|house] in {city}, room free [now|soon|from {date}]."),
        ("[Bills|Utilities] and wifi included.", "Close to [bus and metro|the station|shops].",
         "Kitchen and bathroom shared with [two|three|four] others."),
        ("Rent {price} {currency} per month.", "{price} {currency} monthly, deposit [one month|two months|{price} {currency}].",
         "Only {price} {currency} a month[| all in]."),
        ("Suits [workers|students|couples].", "No pets, no smoking[| please].", "Minimum stay [three|six|two] months."),
        ("Contact {name} to visit.", "Viewing any [evening|weekend|day], ask for {name}."),
    ),
    "goods": (
        ("Selling my {item} because I am [moving|leaving the country|upgrading].",
         "{item} in [good|very good|excellent] condition, [rarely|hardly|carefully] used.", "I have a {item} for sale."),
        ("Works [perfectly|fine|like new], [small scratches|no damage|minor marks].",
         "Comes with [original box|receipt|all accessories].", "Bought [two|three|four] years ago."),
        ("Price {price} {currency}, [slightly|a little] negotiable.", "Asking {price} {currency}.",
         "{price} {currency} or best offer."),
        ("Pick up in {city}.", "Can deliver within {city}[| for a small fee].", "Collection only, {city} [centre|north|south]."),
    ),
    "services": (
        ("Offering {service} in {city} and [nearby|surroundings|the region].",
         "{service} by an [experienced|qualified|certified] professional.", "Need {service}? I can [help|do it]."),
        ("[Ten|Five|Fifteen] years of experience.", "Insured and [reliable|punctual|careful].",
         "References available on request."),
        ("From {price} {currency} per hour.", "Fixed price {price} {currency}.", "Fair rates, from {price} {currency}."),
        ("Free quote, call any time.", "Weekends too[| at no extra cost].", "[Fast|Quick|Same day] response."),
    ),
}
# A sentence of the poster's own, appended to each of its templates: gives every poster a textual fingerprint.
PERSONAL = ("[I am|We are] [honest|reliable|serious|friendly|easy going|hard working] and [punctual|discreet|patient|flexible]",
            "[Thanks|Thank you|Many thanks] for [reading|looking|your time][| and have a nice day| and good luck]",
            "[Write|Call|Message] [me|us] [in English|in Spanish|in Russian|in any language|anytime]",
            "[First come first served|Do not miss this|Limited places|Only serious people|Offer valid this month]")
PRICE_RANGES = {"jobs": (300, 1500), "wellness": (40, 200), "rentals": (250, 1200), "goods": (10, 900),
                "services": (15, 120)}

# Hard negatives: phrases many unrelated posters paste, and placeholder phones people type when they mean "none".
BOILERPLATE = ("Serious inquiries only, no time wasters.", "Please no calls after 10pm, text is better.",
               "100% real, no scam, meet in person.", "Available 24/7 for your questions.")
PLACEHOLDER_PHONES = ("000-000-0000", "123-456-7890")

# Phone obfuscation
OBFUSCATIONS = ("words", "letters", "separators", "emoji", "split")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_KEYCAP = "\ufe0f\u20e3"
_SEPARATORS = (".", " ", "-", "*", "_", " . ", "/")

_EMOJI = ("✨", "💕", "🌸", "🔥", "⭐", "😊", "💯", "🌴", "✈️", "🏠")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


@functools.lru_cache(maxsize=65536)
def phone_display(e164: str, ad_country: str) -> str:
    """How a poster writes a number: national form at home, international form abroad."""
    number = phonenumbers.parse(e164)
    home = phonenumbers.region_code_for_number(number)
    fmt = PhoneNumberFormat.NATIONAL if home == ad_country else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, fmt)


def obfuscate_phone(shown: str, kind: str, rnd: random.Random) -> tuple[str, str]:
    """Return (main text, tail text) for one obfuscation kind; tail is non-empty only for "split"."""
    if kind == "words":
        return " ".join(_DIGIT_WORDS[int(c)] if c.isdigit() else c for c in shown if c != " ").replace("  ", " "), ""
    if kind == "letters":
        return shown.replace("0", "O").replace("1", "l"), ""
    if kind == "separators":
        sep = rnd.choice(_SEPARATORS)
        digits = re.sub(r"\D", "", shown)
        lead = "+" if shown.startswith("+") else ""
        chunks, i = [], 0
        while i < len(digits):
            size = rnd.choice((1, 2, 3))
            chunks.append(digits[i:i + size])
            i += size
        return lead + sep.join(chunks), ""
    if kind == "emoji":
        return "".join(c + _KEYCAP if c.isdigit() else c for c in shown), ""
    if kind == "split":
        cut = len(shown) // 2
        while cut < len(shown) and not shown[cut].isdigit():
            cut += 1
        return shown[:cut] + "...", "..." + shown[cut:]
    raise ValueError(f"unknown obfuscation kind {kind!r}; expected one of {OBFUSCATIONS}")


def fix_choices(template: str, rnd: random.Random) -> str:
    """Resolve every [a|b|c] in a sentence once (at template creation), leaving {slots} for each ad."""
    return re.sub(r"\[([^\[\]]*)\]", lambda m: rnd.choice(m.group(1).split("|")), template)


def fill(template: str, slots: dict) -> str:
    """Fill slots and capitalise the first letter (a slot such as {item} may open the sentence)."""
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


def add_typos(text: str, rnd: random.Random, rate: float = 0.06) -> str:
    """Swap or drop letters in a few longer words; digits are left alone so contacts survive."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and word.isalpha() and rnd.random() < rate:
            j = rnd.randrange(1, len(word) - 2)
            if rnd.random() < 0.5:
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2:]
            else:
                words[i] = word[:j] + word[j + 1:]
    return " ".join(words)


def add_emoji(text: str, rnd: random.Random) -> str:
    sentences = split_sentences(text)
    return " ".join(s + (" " + rnd.choice(_EMOJI) if rnd.random() < 0.4 else "") for s in sentences)


def leetspeak(text: str, rnd: random.Random, rate: float = 0.15) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if word.isalpha() and len(word) > 3 and rnd.random() < rate:
            words[i] = "".join(_LEET.get(c, c) if c.islower() else c for c in word)
    return " ".join(words)


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def shuffle_sentences(sentences: list[str], rnd: random.Random) -> list[str]:
    """Shuffle all but the first sentence (posters keep their opener)."""
    rest = sentences[1:]
    rnd.shuffle(rest)
    return sentences[:1] + rest
