"""English: the banks of demo.text (what baseline worlds are written with), plus family-world extras."""

from demo import text as T
from demo.phrasebook import Phrasebook

BOOK = Phrasebook(
    code="en", titles=T.TITLES, sentences=T.SENTENCES, personal=T.PERSONAL, names=T.NAMES,
    destinations=T.DESTINATIONS, jobs=T.JOBS, items=T.ITEMS, services=T.SERVICES, boilerplate=T.BOILERPLATE,
    contact_labels=("Call", "Tel", "WhatsApp", "Mob"), body_labels=("Call me", "WhatsApp", "Phone", "Text"),
    rest_of_number="Rest of the number", edit_prefixes=("UPDATE: still available. ", "Price updated! ", "Back again. "),
    months=(), agency_labels=("Agency line", "Office", "Bookings"), footer_label="Customer service",
    placeholders=T.PLACEHOLDER_PHONES,
)
