"""Synthetic ad text for the enrichment benchmarks: controllers, templates, variations, obfuscated phones.

Used by bench/enrich_*.py until (and alongside) the demo world generator. Deterministic per seed.
Each ad records the truth the benchmarks score against: its controller and the phone it carries.
`masked_corpus` gives the benchmarks one way to load slot-masked texts, from a world or from here.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

SENTENCES = [
    "hi gentlemen my name is {name} and i am {age} years young",
    "new in {city} for a few days only",
    "sweet and petite girl next door ready to make your day",
    "{price} for half hour {price2} for one hour no rush",
    "call or text me at {phone}",
    "real pictures 100 percent guaranteed no games no drama",
    "incall and outcall available in the {city} area",
    "i am discreet clean and classy",
    "available 24/7 just send me a message",
    "no law enforcement no pimps no blocked numbers",
    "upscale companion for the generous gentleman",
    "i love to travel and meet new friends",
    "come relax with me after a long day at work",
    "serious inquiries only please be respectful",
    "i am located near the airport close to downtown",
    "young fresh and fun with a great attitude",
    "specials today only for first time clients",
    "text only i do not answer private numbers",
    "my pictures are recent and unedited",
    "looking for fun tonight let me spoil you",
    "exotic beauty visiting {city} this week",
    "two girl specials available ask for details",
    "quiet private apartment with parking",
    "hosting tonight until late at night",
    "please read the full ad before you contact me",
    "deposit required for outcall appointments",
    "i speak english and a little spanish",
    "come see me you will not regret it",
    "friendly easy going and always on time",
    "limited time in town book early",
    "you can reach me on {handle}",
    "ask about my {price} specials",
    "your satisfaction is my priority",
    "short notice appointments welcome",
    "cash only no checks",
    "mature ladies welcome to apply",
    "sexy curvy and sweet as candy",
    "let me be your girlfriend for the night",
    "ebony goddess ready to play",
    "blonde bombshell with blue eyes",
]
SYNONYMS = {
    "gentlemen": ["guys", "fellas", "boys"],
    "hi": ["hello", "hey", "hiya"],
    "new": ["just arrived", "fresh"],
    "sweet": ["lovely", "cute"],
    "call": ["ring", "phone"],
    "available": ["open", "ready"],
    "discreet": ["private", "quiet"],
    "young": ["fresh", "youthful"],
    "tonight": ["this evening", "now"],
    "fun": ["a good time", "laughs"],
    "recent": ["new", "current"],
    "beauty": ["doll", "angel"],
    "girl": ["lady", "babe"],
    "relax": ["unwind", "chill"],
    "generous": ["kind", "wealthy"],
    "clean": ["fresh", "tidy"],
}
EMOJI = ["💋", "😘", "🔥", "❤️", "✨", "🌹", "💦", "👅", "😍", "🍒"]
NAMES = ["jessica", "amber", "crystal", "destiny", "candy", "mia", "lola", "bella", "nina", "sasha", "kim", "ruby"]
CITIES = ["chicago", "houston", "dallas", "phoenix", "atlanta", "miami", "denver", "seattle", "boston", "austin"]
LEET = str.maketrans({"e": "3", "a": "4", "o": "0", "i": "1", "s": "5"})
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
KEYCAP = "\ufe0f\u20e3"
CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨"
FULLWIDTH = "０１２３４５６７８９"


@dataclass(frozen=True)
class SyntheticAd:
    ad_id: int
    controller: int
    text: str
    phone_e164: str | None  # the phone written in the text, if any (the truth for extraction)
    phone_form: str  # which obfuscation was used


def us_phone(rng: random.Random) -> str:
    """A valid-looking US national number (area code and exchange not starting with 0/1)."""
    area = rng.choice(["212", "213", "305", "312", "404", "415", "512", "602", "617", "702", "713", "206"])
    return area + str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(6))


def obfuscate_phone(national: str, form: str, rng: random.Random) -> str:
    """Write a 10-digit US national number in one of the obfuscated forms in `PHONE_FORMS`."""
    a, b, c = national[:3], national[3:6], national[6:]
    if form == "plain":
        return rng.choice([f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"{a}/{b}/{c}", national])
    if form == "country_code":
        return rng.choice([f"+1 {a} {b} {c}", f"+1-{a}-{b}-{c}", f"1 ({a}) {b}-{c}", f"+1{national}"])
    if form == "words":
        return " ".join(WORDS[int(d)] for d in national)
    if form == "mixed_words":
        return " ".join(WORDS[int(d)] if rng.random() < 0.5 else d for d in national)
    if form == "lookalike":
        swapped = national.replace("0", "O").replace("1", rng.choice(["l", "I"]))
        return f"{swapped[:3]}-{swapped[3:6]}-{swapped[6:]}"
    if form == "keycap":
        return " ".join("".join(d + KEYCAP for d in part) for part in (a, b, c))
    if form == "circled":
        return "".join(CIRCLED[int(d)] for d in national)
    if form == "fullwidth":
        return "".join(FULLWIDTH[int(d)] for d in national)
    if form == "split":
        return f"{a} {b[:2]}.. then {b[2:]}{c[:1]} {c[1:]}"
    if form == "spaced_dots":
        return " . ".join(national)
    raise ValueError(form)


PHONE_FORMS = [
    "plain", "country_code", "words", "mixed_words", "lookalike", "keycap", "circled", "fullwidth", "split", "spaced_dots",
]  # fmt: skip
DISTRACTORS = [
    "{price} for {n} min",
    "i am {age} yo",
    "posted on {d}/{m}/2026",
    "zip code {zip}",
    "measurements 34-24-36",
    "5'6 and 120 lbs",
    "open 10am to 11pm",
    "room 1204 at 9:30",
    "ref #{ref}",
    "{price} {price2} {price3} rates",
]


def distractor(rng: random.Random) -> str:
    return rng.choice(DISTRACTORS).format(
        price=f"${rng.choice([80, 100, 150, 200, 250, 300])}",
        price2=f"{rng.choice([150, 200, 250])} roses",
        price3=f"{rng.choice([300, 400])}$",
        n=rng.choice([15, 30, 45, 60]),
        age=rng.randint(19, 35),
        d=rng.randint(1, 28),
        m=rng.randint(1, 12),
        zip=rng.randint(10000, 99999),
        ref=rng.randint(100000, 9999999),
    )


def _vary(sentence: str, rng: random.Random, strength: float) -> str:
    words = sentence.split()
    for i, word in enumerate(words):
        if word in SYNONYMS and rng.random() < strength:
            words[i] = rng.choice(SYNONYMS[word])
        elif rng.random() < strength * 0.15 and not word.startswith("{"):
            words[i] = word.translate(LEET)
        elif rng.random() < strength * 0.2 and not word.startswith("{"):
            words[i] = word.capitalize() if rng.random() < 0.5 else word.upper()
    if rng.random() < strength * 0.5:
        words.insert(rng.randrange(len(words) + 1), rng.choice(EMOJI))
    return " ".join(words)


def generate(n_ads: int, n_controllers: int, seed: int = 7, variation: float = 0.3) -> list[SyntheticAd]:
    """`n_ads` ads from `n_controllers` controllers; each controller reuses one template of ~10 sentences.

    Per ad: slot values change, words get synonyms/leet/case with probability `variation`, one
    sentence may be dropped and two swapped, emoji sprinkled, the phone written in a random form,
    and a price/age/date distractor added. Controllers keep 1-2 phones.
    """
    rng = random.Random(seed)
    templates = [rng.sample(SENTENCES, rng.randint(8, 12)) for _ in range(n_controllers)]
    phones = [[us_phone(rng) for _ in range(rng.randint(1, 2))] for _ in range(n_controllers)]
    handles = [f"@{rng.choice(NAMES)}{rng.randint(10, 999)}" for _ in range(n_controllers)]
    ads = []
    for ad_id in range(n_ads):
        controller = rng.randrange(n_controllers)
        sentences = list(templates[controller])
        if "call or text me at {phone}" not in sentences:
            sentences.insert(rng.randrange(len(sentences) + 1), "call or text me at {phone}")
        if rng.random() < 0.5 and len(sentences) > 6:
            drop = rng.randrange(len(sentences))
            if "{phone}" not in sentences[drop]:
                sentences.pop(drop)
        if rng.random() < 0.5:
            i, j = rng.randrange(len(sentences)), rng.randrange(len(sentences))
            sentences[i], sentences[j] = sentences[j], sentences[i]
        sentences.insert(rng.randrange(len(sentences) + 1), distractor(rng))
        national = rng.choice(phones[controller])
        form = rng.choice(PHONE_FORMS)
        values = {
            "name": rng.choice(NAMES).capitalize(),
            "age": rng.randint(19, 29),
            "city": rng.choice(CITIES).capitalize(),
            "price": f"${rng.choice([100, 120, 150, 180, 200])}",
            "price2": f"${rng.choice([200, 250, 300])}",
            "phone": obfuscate_phone(national, form, rng),
            "handle": handles[controller],
        }
        text = ". ".join(_vary(s, rng, variation) for s in sentences).format(**values) + "."
        ads.append(SyntheticAd(ad_id, controller, text, "+1" + national, form))
    return ads


def masked_corpus(world: str | None, limit: int, label: str, seed: int, variation: float) -> tuple[list[str], list[str]]:
    """(slot-masked texts, a group label per text) as the worker would mask them.

    With `world` (a demo world directory): title + body of its first `limit` ads, labelled by the
    truth field `label` ('template_id', 'poster_id'). Without: `limit` synthetic ads from
    `generate(seed=seed, variation=variation)`, labelled by controller.
    """
    from enrich.normalise import normalise_text
    from enrich.slots import mask_slots

    if world is None:
        ads = generate(limit, max(10, limit // 10), seed=seed, variation=variation)
        return [mask_slots(normalise_text(a.text).text) for a in ads], [str(a.controller) for a in ads]
    texts, labels = [], []
    with open(Path(world) / "ads.jsonl", encoding="utf-8") as a, open(Path(world) / "truth.jsonl", encoding="utf-8") as t:
        for _, ad_line, truth_line in zip(range(limit), a, t):
            ad, truth = json.loads(ad_line), json.loads(truth_line)
            texts.append(mask_slots(normalise_text(f"{ad['title']}. {ad['body']}").text, [ad["city"].lower()]))
            labels.append(str(truth[label]))
    return texts, labels
