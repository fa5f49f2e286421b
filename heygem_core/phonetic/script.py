"""The script of a speech → the words the aligner places, with pronunciations for those it lacks.

English words come from the recogniser's pronouncing dictionary; a word it lacks (a name, a coinage) is
spelled out by letter rules. Chinese characters are read as pinyin (pypinyin, context-aware for characters
with several readings) and each syllable becomes a word whose phones approximate it in the en-US set.
Digits and punctuation are dropped: alignment lets the audio take any pause or unread number as silence
or as the neighbouring words.
"""
from __future__ import annotations

import re

from .pinyin import syllable_phones

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

# Letter rules for words the dictionary lacks: longest match first, then single letters.
_GRAPHEMES = {
    "tch": "CH", "sch": "S K", "igh": "AY", "eigh": "EY", "ough": "AO", "tion": "SH AH N", "sion": "ZH AH N",
    "ch": "CH", "sh": "SH", "th": "TH", "ph": "F", "wh": "W", "ck": "K", "ng": "NG", "qu": "K W", "gh": "G",
    "kn": "N", "wr": "R", "ee": "IY", "ea": "IY", "ie": "IY", "oo": "UW", "ou": "AW", "ow": "OW", "oa": "OW",
    "oi": "OY", "oy": "OY", "ai": "EY", "ay": "EY", "au": "AO", "aw": "AO", "ew": "UW", "ey": "EY",
    "er": "ER", "ir": "ER", "ur": "ER", "ar": "AA R", "or": "AO R",
    "a": "AE", "b": "B", "c": "K", "d": "D", "e": "EH", "f": "F", "g": "G", "h": "HH", "i": "IH", "j": "JH",
    "k": "K", "l": "L", "m": "M", "n": "N", "o": "AA", "p": "P", "q": "K", "r": "R", "s": "S", "t": "T",
    "u": "AH", "v": "V", "w": "W", "x": "K S", "y": "Y", "z": "Z",
}
_LONGEST = max(len(g) for g in _GRAPHEMES)


def is_chinese(text: str) -> bool:
    return len(_CJK.findall(text)) >= max(1, len(text.strip()) // 10)


def letters_to_phones(word: str) -> str:
    """A rough pronunciation of an English ``word`` from its spelling (ARPAbet, space-separated)."""
    word = word.lower().replace("'", "")
    if len(word) > 3 and word.endswith("e") and word[-2] not in "aeiouy":
        word = word[:-1]                      # silent final e
    phones, i = [], 0
    while i < len(word):
        for n in range(min(_LONGEST, len(word) - i), 0, -1):
            g = _GRAPHEMES.get(word[i:i + n])
            if g:
                if g != (phones[-1] if phones else None):  # doubled letters are one sound
                    phones.append(g)
                i += n
                break
        else:
            i += 1
    if word.endswith("y") and len(word) > 2 and phones and phones[-1] == "Y":
        phones[-1] = "IY"
    return " ".join(phones) or "AH"


def script_words(text: str, dictionary: set[str]) -> tuple[list[str], dict[str, str], str]:
    """``(words, extra pronunciations, language)`` for aligning ``text``; language is "zh" or "en"."""
    if is_chinese(text):
        from pypinyin import Style, lazy_pinyin

        words, extra = [], {}
        for syl in lazy_pinyin(_CJK_ONLY.sub(" ", text), style=Style.NORMAL, errors="ignore"):
            phones = syllable_phones(syl)
            if phones:
                name = f"zh_{syl}"
                words.append(name)
                extra[name] = phones
        return words, extra, "zh"
    words, extra = [], {}
    for w in _WORD.findall(text.lower().replace("\u2019", "'")):
        if w not in dictionary and w not in extra:
            extra[w] = letters_to_phones(w)
        words.append(w)
    return words, extra, "en"


_CJK_ONLY = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff]+")
