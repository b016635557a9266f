"""People and addresses for sample applications: Dutch names, Dronten addresses, households.

Names carry accents, apostrophes, hyphens and tussenvoegsels on purpose (tonk-form.md,
"Formats as citizens write them": they must survive every hop). Addresses are in the
municipality of Dronten (postcodes 8251-8256, tonk-policy.md "Identifiers").
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date

from sandbox.samples.identifiers import make_postcode_letters

FIRST_NAMES = (
    "Anna", "Anna Maria", "Sophie", "Emma", "Julia", "Zoë", "Chloë", "Noël", "Inès", "Renée", "José",
    "Jérôme", "Anaïs", "Ayşe", "Fatma", "Öznur", "Gülşen", "Mehmet", "Yusuf", "Hüseyin", "Mohamed",
    "Fatima-Zahra", "Khadija", "Youssef", "Jan", "Pieter", "Johannes Cornelis", "Willem", "Sanne",
    "Daan", "Thijs", "Lotte", "Femke", "Bram", "Joëlle", "Thuy", "Lê Văn", "Małgorzata", "Paweł",
    "Ægidius", "Ruud", "Hendrika", "Kees", "Marloes", "Seçil", "René", "Hélène", "Björn", "Ingrid",
)

#: (tussenvoegsel, achternaam): the tussenvoegsel is its own form field
SURNAMES = (
    ("", "Çelik"), ("", "d'Hondt"), ("", "Öztürk-de Vries"), ("van der", "Berg"), ("de", "Vries"),
    ("van", "Dijk"), ("", "Jansen"), ("van den", "Heuvel"), ("", "Bakker"), ("ter", "Horst"),
    ("", "El Idrissi"), ("", "Müller"), ("", "Nguyễn"), ("", "Yılmaz"), ("", "Şahin"), ("van 't", "Hof"),
    ("de", "Jong"), ("", "Visser"), ("", "Smit"), ("", "Mulder"), ("in 't", "Veld"), ("", "Kowalczyk"),
    ("", "O'Neill"), ("", "Brouwer"), ("van", "Leeuwen-Öztürk"), ("", "Boumediène"), ("", "Hoekstra"),
    ("de la", "Cruz"), ("", "Dijkstra"), ("van der", "Meer"), ("", "Kaya"), ("", "Bosman"), ("", "Peeters"),
)

#: (woonplaats, postcode digits, streets): Dronten municipality (tonk-policy.md "Identifiers")
PLACES = (
    ("Dronten", ("8251", "8252", "8253", "8254"), ("De Rede", "Het Ravelijn", "Educalaan", "Wisentweg",
                                                   "Reigerweg", "De Schalm", "Fazantenweg", "Azuriet",
                                                   "Koggeplein", "Zuiderzeestraat", "Dwarsgouw")),
    ("Swifterbant", ("8255",), ("De Poort", "Zuidsingel", "Noordsingel", "Kempenaar", "Ringvaart")),
    ("Biddinghuizen", ("8256",), ("Bosweg", "Spijkweg", "Aan de Oude Zee", "Zeebiesweg", "Hazeleger")),
)

HOUSEHOLDS = ("alleenstaand", "alleenstaande ouder", "gehuwd of samenwonend")


@dataclass(frozen=True)
class Person:
    """A person as the form asks for them; `geboortedatum` is a real date (ISO when serialised)."""

    voornamen: str
    tussenvoegsel: str
    achternaam: str
    geboortedatum: date
    bsn: str

    @property
    def initials(self) -> str:
        """`"Anna Maria"` -> `"A.M."`."""
        return "".join(part[0] + "." for part in self.voornamen.replace("-", " ").split())

    @property
    def full_surname(self) -> str:
        """Tussenvoegsel and achternaam, e.g. `"van der Berg"`."""
        return f"{self.tussenvoegsel} {self.achternaam}".strip()

    @property
    def full_name(self) -> str:
        """E.g. `"Anna Maria van der Berg"`."""
        return f"{self.voornamen} {self.full_surname}"


@dataclass(frozen=True)
class Address:
    """A Dronten address; `postcode` canonical `8251 AB`."""

    straat: str
    huisnummer: str
    toevoeging: str
    postcode: str
    woonplaats: str


_NO_DECOMPOSITION = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "ß": "ss",
                                   "æ": "ae", "Æ": "Ae", "œ": "oe"})


def ascii_fold(text: str) -> str:
    """`"Ayşe Çelik"` -> `"Ayse Celik"`, `"Paweł"` -> `"Pawel"`: for e-mail addresses and image
    captions; characters with no ASCII form are dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def is_latin1(text: str) -> bool:
    """True when `text` fits ISO 8859-1 (what reportlab's AcroForm fields can hold)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def make_birth_date(rng: random.Random, youngest: int = 1999, oldest: int = 1948) -> date:
    """A birth date between 1 Jan `oldest` and 31 Dec `youngest`: adult on every date in 2021."""
    start = date(oldest, 1, 1).toordinal()
    end = date(youngest, 12, 31).toordinal()
    return date.fromordinal(rng.randint(start, end))


def make_person(rng: random.Random, bsn: str, surname: tuple[str, str] | None = None,
                latin1_only: bool = False) -> Person:
    """A person with the given BSN; `surname` (tussenvoegsel, achternaam) or a random one.

    `latin1_only` restricts names to ISO 8859-1 (for AcroForm PDFs, see `pdfform`).
    """
    while True:
        voornamen = rng.choice(FIRST_NAMES)
        tussenvoegsel, achternaam = surname if surname is not None else rng.choice(SURNAMES)
        if not latin1_only or (is_latin1(voornamen) and is_latin1(achternaam)):
            break
        surname = None
    return Person(voornamen=voornamen, tussenvoegsel=tussenvoegsel, achternaam=achternaam,
                  geboortedatum=make_birth_date(rng), bsn=bsn)


def make_address(rng: random.Random) -> Address:
    """A random address in Dronten, Swifterbant or Biddinghuizen."""
    woonplaats, postcodes, streets = rng.choice(PLACES)
    toevoeging = rng.choice(("", "", "", "", "", "A", "B", "bis", "2-hoog", "1"))
    return Address(straat=rng.choice(streets), huisnummer=str(rng.randint(1, 240)), toevoeging=toevoeging,
                   postcode=f"{rng.choice(postcodes)} {make_postcode_letters(rng)}", woonplaats=woonplaats)
