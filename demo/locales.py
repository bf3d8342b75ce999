"""Where multilingual posters live and how locals write phone numbers (family worlds only).

Baseline worlds keep demo.population's nine countries and English city names; family worlds may use the
countries below with the names locals use (accents included; some names exist in two countries, such as
Córdoba, Mérida, León, Guadalajara and Cartagena, which matters once the country is not on the page).
"""

from __future__ import annotations

import functools
import random
import re

import phonenumbers
from phonenumbers import PhoneNumberFormat

# country -> (currency, country code, mobile prefixes after the code, digits after the prefix); merged into
# demo.population.COUNTRIES so random_phone knows them. phonenumbers validates every number made.
EXTRA_COUNTRIES = {
    "MX": ("MXN", "+52", ("55", "33", "81"), 8),
    "AR": ("ARS", "+54", ("911",), 8),
    "CO": ("COP", "+57", ("300", "301", "310", "311", "312", "313", "315", "316", "320", "321"), 7),
    "PT": ("EUR", "+351", ("91", "92", "93", "96"), 7),
    "BR": ("BRL", "+55", ("119", "219", "319", "719", "819", "479"), 8),
    "BE": ("EUR", "+32", ("47", "48", "49"), 7),
    "CH": ("CHF", "+41", ("76", "77", "78", "79"), 7),
    "AT": ("EUR", "+43", ("664", "660", "676", "699"), 7),
    "MD": ("MDL", "+373", ("60", "62", "67", "68", "69", "78", "79"), 6),
}

LOCAL_CITIES = {  # country -> [(city, region)] as locals write them
    "US": [("New York", "NY"), ("Miami", "FL"), ("Houston", "TX"), ("Los Angeles", "CA"), ("Chicago", "IL")],
    "GB": [("London", "England"), ("Manchester", "England"), ("Birmingham", "England")],
    "ES": [("Madrid", "Comunidad de Madrid"), ("Barcelona", "Cataluña"), ("Valencia", "Comunitat Valenciana"),
           ("Sevilla", "Andalucía"), ("Málaga", "Andalucía"), ("Córdoba", "Andalucía"), ("Mérida", "Extremadura"),
           ("León", "Castilla y León"), ("Guadalajara", "Castilla-La Mancha"), ("Cartagena", "Región de Murcia"),
           ("Bilbao", "País Vasco"), ("Zaragoza", "Aragón")],
    "MX": [("Ciudad de México", "CDMX"), ("Guadalajara", "Jalisco"), ("Monterrey", "Nuevo León"), ("Puebla", "Puebla"),
           ("Tijuana", "Baja California"), ("Cancún", "Quintana Roo"), ("Mérida", "Yucatán"), ("León", "Guanajuato")],
    "AR": [("Buenos Aires", "CABA"), ("Córdoba", "Córdoba"), ("Rosario", "Santa Fe"), ("Mendoza", "Mendoza"),
           ("Mar del Plata", "Buenos Aires")],
    "CO": [("Bogotá", "Cundinamarca"), ("Medellín", "Antioquia"), ("Cali", "Valle del Cauca"),
           ("Barranquilla", "Atlántico"), ("Cartagena", "Bolívar")],
    "PT": [("Lisboa", "Lisboa"), ("Porto", "Porto"), ("Faro", "Algarve"), ("Braga", "Braga"), ("Coimbra", "Coimbra")],
    "BR": [("São Paulo", "SP"), ("Rio de Janeiro", "RJ"), ("Belo Horizonte", "MG"), ("Salvador", "BA"),
           ("Brasília", "DF"), ("Recife", "PE"), ("Porto Alegre", "RS"), ("Florianópolis", "SC")],
    "FR": [("Paris", "Île-de-France"), ("Lyon", "Auvergne-Rhône-Alpes"), ("Marseille", "Provence-Alpes-Côte d'Azur"),
           ("Toulouse", "Occitanie"), ("Nice", "Provence-Alpes-Côte d'Azur"), ("Bordeaux", "Nouvelle-Aquitaine"),
           ("Lille", "Hauts-de-France")],
    "BE": [("Bruxelles", "Bruxelles-Capitale"), ("Liège", "Wallonie"), ("Charleroi", "Wallonie"), ("Namur", "Wallonie")],
    "CH": [("Genève", "Genève"), ("Lausanne", "Vaud"), ("Zürich", "Zürich"), ("Lugano", "Ticino"), ("Basel", "Basel-Stadt")],
    "IT": [("Roma", "Lazio"), ("Milano", "Lombardia"), ("Napoli", "Campania"), ("Torino", "Piemonte"),
           ("Bologna", "Emilia-Romagna"), ("Firenze", "Toscana"), ("Verona", "Veneto")],
    "DE": [("Berlin", "Berlin"), ("Hamburg", "Hamburg"), ("München", "Bayern"), ("Köln", "Nordrhein-Westfalen"),
           ("Frankfurt am Main", "Hessen"), ("Stuttgart", "Baden-Württemberg")],
    "AT": [("Wien", "Wien"), ("Graz", "Steiermark"), ("Linz", "Oberösterreich"), ("Salzburg", "Salzburg")],
    "RO": [("București", "București"), ("Cluj-Napoca", "Cluj"), ("Timișoara", "Timiș"), ("Iași", "Iași"),
           ("Constanța", "Constanța")],
    "MD": [("Chișinău", "Chișinău"), ("Bălți", "Bălți")],
}
# country -> languages spoken by its posters, with weights
COUNTRY_LANGUAGES = {
    "US": {"en": 80, "es": 20}, "GB": {"en": 100}, "ES": {"es": 100}, "MX": {"es": 100}, "AR": {"es": 100},
    "CO": {"es": 100}, "PT": {"pt": 100}, "BR": {"pt": 100}, "FR": {"fr": 100}, "BE": {"fr": 100},
    "CH": {"de": 55, "fr": 35, "it": 10}, "IT": {"it": 100}, "DE": {"de": 100}, "AT": {"de": 100},
    "RO": {"ro": 100}, "MD": {"ro": 100},
}
_MULTILINGUAL_WEIGHTS = {"US": 6, "GB": 5, "ES": 10, "MX": 8, "AR": 6, "CO": 5, "PT": 6, "BR": 9, "FR": 9, "BE": 4,
                         "CH": 3, "IT": 8, "DE": 8, "AT": 3, "RO": 7, "MD": 2}


class Geography:
    """Countries, cities and languages a world's posters draw from. `BASELINE` reproduces the old world."""

    def __init__(self, weights: dict[str, int], cities: dict[str, list[tuple[str, str]]],
                 languages: tuple[str, ...] = ("en",)):
        self.weights, self.cities, self.languages = weights, cities, languages
        self._countries, self._weights = list(weights), list(weights.values())

    @property
    def multilingual(self) -> bool:
        return len(self.languages) > 1

    def pick_country(self, rnd: random.Random) -> str:
        return rnd.choices(self._countries, weights=self._weights)[0]

    def poster_languages(self, country: str, second_share: float, rnd: random.Random) -> tuple[str, ...]:
        """One language (what the country speaks) or, with `second_share`, two; ("en",) in an English world."""
        if not self.multilingual:
            return ("en",)
        spoken = {code: w for code, w in COUNTRY_LANGUAGES[country].items() if code in self.languages} or {"en": 1}
        first = rnd.choices(list(spoken), weights=list(spoken.values()))[0]
        if rnd.random() >= second_share:
            return (first,)
        others = [code for code in self.languages if code != first]
        second = "en" if first != "en" and rnd.random() < 0.6 else rnd.choice(others)
        return (first, second)


def multilingual_geography(languages: tuple[str, ...]) -> Geography:
    """Countries where at least one of `languages` is spoken, with the names locals use."""
    weights = {country: weight for country, weight in _MULTILINGUAL_WEIGHTS.items()
               if set(COUNTRY_LANGUAGES[country]) & set(languages)}
    return Geography(weights, LOCAL_CITIES, languages)


# How locals lay out a national number: '#' is the next digit of the national form (trunk prefix included).
# Every layout parses back to the same number with phonenumbers (tests/demo checks each one).
NATIONAL_LAYOUTS = {
    "US": ("(###) ###-####", "###-###-####", "###.###.####", "##########"),
    "GB": ("##### ######", "###########", "##### ### ###"),
    "ES": ("### ### ###", "#########", "### ## ## ##", "###.###.###"),
    "MX": ("## #### ####", "##########", "##-####-####", "(##) #### ####"),
    "AR": ("### ##-####-####", "### ## ####-####", "(###) ## ####-####"),
    "CO": ("### #######", "### ### ####", "##########"),
    "PT": ("### ### ###", "#########", "###-###-###"),
    "BR": ("(##) #####-####", "## #####-####", "###########", "(##) # ####-####"),
    "FR": ("## ## ## ## ##", "##.##.##.##.##", "##########", "##-##-##-##-##"),
    "BE": ("#### ## ## ##", "####/##.##.##", "#### ### ###", "##########"),
    "CH": ("### ### ## ##", "###/### ## ##", "##########", "### ###.##.##"),
    "IT": ("### ### ####", "### #######", "###/#######", "##########", "###-#######"),
    "DE": ("#### ########", "####-########", "(####) ########", "####/########"),
    "AT": ("#### #######", "####/#######", "#### ### ####"),
    "RO": ("#### ### ###", "##########", "####.###.###", "####-###-###"),
    "MD": ("#### ## ###", "#########", "### ### ###"),
    "NL": ("## ########", "##-########", "##########"),
    "PL": ("### ### ###", "#########", "###-###-###"),
}
_IDD_00 = {"GB", "ES", "PT", "FR", "BE", "CH", "IT", "DE", "AT", "RO", "MD", "NL", "PL"}


def layout(digits: str, pattern: str) -> str | None:
    """Fill '#' in `pattern` with `digits` in order; None when the counts differ."""
    if pattern.count("#") != len(digits):
        return None
    chars = iter(digits)
    return re.sub("#", lambda _: next(chars), pattern)


@functools.lru_cache(maxsize=65536)
def local_display(e164: str, ad_country: str, habit: int, national_abroad: bool) -> str:
    """How a poster with writing `habit` shows a number in an ad placed in `ad_country`.

    At home: the national form in one of the country's local layouts. Abroad: the international form
    (+CC, or 00CC where 00 dials abroad), unless `national_abroad` (the poster writes it as at home).
    """
    number = phonenumbers.parse(e164)
    home = phonenumbers.region_code_for_number(number)
    if home == ad_country or national_abroad:
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        layouts = NATIONAL_LAYOUTS.get(home, ())
        if habit % (len(layouts) + 1) == 0 or not layouts:
            return national
        return layout(re.sub(r"\D", "", national), layouts[habit % (len(layouts) + 1) - 1]) or national
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if habit % 4 == 1:
        return international.replace(" ", "").replace("-", "")
    if habit % 4 == 2 and ad_country in _IDD_00:
        return "00" + international[1:]
    return international


# Prices are drawn in euro-like units; family worlds show them in what the local currency makes of them.
_PRICE_SCALE = {"MXN": 20, "ARS": 1000, "COP": 4000, "BRL": 5, "RON": 5, "MDL": 20, "PLN": 4}


def local_price(price: int, currency: str) -> int:
    """A price in `currency`, rounded to three significant digits as sellers round big numbers."""
    scaled = price * _PRICE_SCALE.get(currency, 1)
    return int(round(scaled, -max(0, len(str(scaled)) - 3)))
