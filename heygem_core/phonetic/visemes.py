"""The mouth shapes of speech: viseme classes and the shape each phone asks of the lips.

Phones are ARPAbet (the en-US recogniser's set, stress digits dropped); Mandarin is mapped onto the same set
(see pinyin.py). Each phone gives one or two shape *targets* (a diphthong moves from one to the other):

- ``viseme`` — the class a viewer would name: lips pressed (p b m), lower lip to the upper teeth (f v),
  rounded (o u w), spread (i e), open (a), another consonant, or rest;
- ``openness`` — jaw and lip opening, 0 (shut) to 1 (the widest a vowel opens, ``a`` of "father");
- ``spread`` — −1 lips rounded and pushed forward (corners in) to +1 spread (corners out).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Viseme(IntEnum):
    REST = 0          # silence: lips together, relaxed
    PRESSED = 1       # p b m: lips pressed together
    LABIODENTAL = 2   # f v: lower lip against the upper teeth
    ROUND = 3         # o u w: lips narrowed and forward
    SPREAD = 4        # i e: corners out, small opening
    OPEN = 5          # a: jaw dropped
    CONSONANT = 6     # t d s n l k g …: slightly open, shape taken from the neighbours


@dataclass(frozen=True)
class Shape:
    viseme: Viseme
    openness: float
    spread: float


V = Viseme
# phone → one target, or two for a diphthong (first half, second half)
PHONE_SHAPES: dict[str, tuple[Shape, ...]] = {
    "SIL": (Shape(V.REST, 0.0, 0.0),),
    # vowels
    "AA": (Shape(V.OPEN, 1.0, 0.0),),
    "AE": (Shape(V.OPEN, 0.85, 0.35),),
    "AH": (Shape(V.OPEN, 0.6, 0.0),),
    "AO": (Shape(V.ROUND, 0.65, -0.6),),
    "AW": (Shape(V.OPEN, 0.9, 0.0), Shape(V.ROUND, 0.35, -0.8)),
    "AY": (Shape(V.OPEN, 0.9, 0.1), Shape(V.SPREAD, 0.35, 0.6)),
    "EH": (Shape(V.SPREAD, 0.55, 0.5),),
    "ER": (Shape(V.ROUND, 0.35, -0.4),),
    "EY": (Shape(V.SPREAD, 0.45, 0.6), Shape(V.SPREAD, 0.3, 0.8)),
    "IH": (Shape(V.SPREAD, 0.32, 0.6),),
    "IY": (Shape(V.SPREAD, 0.22, 1.0),),
    "OW": (Shape(V.ROUND, 0.5, -0.6), Shape(V.ROUND, 0.3, -1.0)),
    "OY": (Shape(V.ROUND, 0.5, -0.8), Shape(V.SPREAD, 0.3, 0.6)),
    "UH": (Shape(V.ROUND, 0.3, -0.7),),
    "UW": (Shape(V.ROUND, 0.22, -1.0),),
    # consonants whose shape is the lips' own
    "P": (Shape(V.PRESSED, 0.0, 0.0),),
    "B": (Shape(V.PRESSED, 0.0, 0.0),),
    "M": (Shape(V.PRESSED, 0.0, 0.0),),
    "F": (Shape(V.LABIODENTAL, 0.1, 0.15),),
    "V": (Shape(V.LABIODENTAL, 0.1, 0.15),),
    "W": (Shape(V.ROUND, 0.2, -1.0),),
    "R": (Shape(V.ROUND, 0.3, -0.5),),
    "SH": (Shape(V.CONSONANT, 0.35, -0.5),),
    "ZH": (Shape(V.CONSONANT, 0.35, -0.5),),
    "CH": (Shape(V.CONSONANT, 0.35, -0.5),),
    "JH": (Shape(V.CONSONANT, 0.35, -0.5),),
    "Y": (Shape(V.SPREAD, 0.3, 0.8),),
    # consonants made behind the lips: the jaw nearly closed, the lips take the neighbours' shape
    "TH": (Shape(V.CONSONANT, 0.35, 0.2),),
    "DH": (Shape(V.CONSONANT, 0.35, 0.2),),
    "S": (Shape(V.CONSONANT, 0.3, 0.5),),
    "Z": (Shape(V.CONSONANT, 0.3, 0.5),),
    "T": (Shape(V.CONSONANT, 0.35, 0.2),),
    "D": (Shape(V.CONSONANT, 0.35, 0.2),),
    "N": (Shape(V.CONSONANT, 0.35, 0.1),),
    "L": (Shape(V.CONSONANT, 0.45, 0.0),),
    "K": (Shape(V.CONSONANT, 0.45, 0.0),),
    "G": (Shape(V.CONSONANT, 0.45, 0.0),),
    "NG": (Shape(V.CONSONANT, 0.45, 0.0),),
    "HH": (Shape(V.CONSONANT, 0.5, 0.0),),
}
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})
BILABIALS = frozenset({"P", "B", "M"})
STOPS = frozenset({"P", "B", "T", "D", "K", "G"})
NASALS = frozenset({"M", "N", "NG"})
# The figures of the phonetic report: open vowels against close vowels and labiodentals.
OPEN_VOWELS = frozenset({"AA", "AE"})
CLOSE_SOUNDS = frozenset({"IY", "UW", "F", "V", "W"})


def base_phone(name: str) -> str:
    """``"AA1"`` → ``"AA"``; the recogniser's noise and silence fillers (``+NSN+``, ``<sil>``) → ``"SIL"``."""
    name = name.strip().upper().rstrip("012")
    return name if name in PHONE_SHAPES else "SIL"


def phone_shapes(name: str) -> tuple[Shape, ...]:
    return PHONE_SHAPES[base_phone(name)]
