"""Mandarin syllables (toneless pinyin, ``ü`` written ``v`` as pypinyin does) → approximate ARPAbet phones.

The mouth only needs the articulation: b p m close the lips, f touches the lower lip to the teeth, u o ü and
w round, i spreads, a opens. Tones do not change the lips and are dropped.
"""
from __future__ import annotations

INITIALS = {
    "zh": "JH", "ch": "CH", "sh": "SH", "b": "B", "p": "P", "m": "M", "f": "F", "d": "D", "t": "T", "n": "N",
    "l": "L", "g": "G", "k": "K", "h": "HH", "j": "JH", "q": "CH", "x": "SH", "r": "R", "z": "Z", "c": "T S",
    "s": "S", "y": "Y", "w": "W",
}
FINALS = {
    "a": "AA", "o": "AO", "e": "AH", "i": "IY", "u": "UW", "v": "UW", "ai": "AY", "ei": "EY", "ao": "AW",
    "ou": "OW", "an": "AA N", "en": "AH N", "ang": "AA NG", "eng": "AH NG", "ong": "UH NG", "er": "ER",
    "ia": "IY AA", "ie": "IY EH", "iao": "IY AW", "iu": "IY OW", "ian": "IY EH N", "in": "IY N",
    "iang": "IY AA NG", "ing": "IY NG", "iong": "IY UH NG", "ua": "W AA", "uo": "W AO", "uai": "W AY",
    "ui": "W EY", "uan": "W AA N", "un": "W AH N", "uang": "W AA NG", "ue": "IY EH", "ve": "IY EH",
    "vn": "IY N", "van": "IY EH N",
}
# after these initials "i" is the apical vowel of zhi/chi/shi/ri/zi/ci/si: barely spread, jaw nearly closed
_APICAL = {"zh", "ch", "sh", "r", "z", "c", "s"}
# after j q x y, a written "u" is ü (rounded)
_U_IS_V = {"j", "q", "x", "y"}


def syllable_phones(syllable: str) -> str:
    """``"zhong"`` → ``"JH UH NG"``; ``""`` for anything that is not a pinyin syllable."""
    s = syllable.lower().strip().rstrip("012345").replace("ü", "v")
    if not s.isalpha() or not s.isascii():
        return ""
    initial = next((i for i in sorted(INITIALS, key=len, reverse=True) if s.startswith(i) and len(s) > len(i)),
                   "")
    final = s[len(initial):]
    if initial in _U_IS_V and final.startswith("u"):
        final = "v" + final[1:]
    if initial in ("y", "w") and final not in FINALS:   # yi, wu, yin … written with the glide letter
        final = {"y": "i", "w": "u"}[initial] + final
    if initial in _APICAL and final == "i":
        phones = "IH"
    elif final in FINALS:
        phones = FINALS[final]
    else:
        return ""
    head = INITIALS.get(initial, "")
    if head in ("Y", "W") and phones.split()[0] in ("IY", "UW", "W"):
        head = ""                               # yi = i, wu = u: the glide is the vowel
    return f"{head} {phones}".strip()
