"""Other names news uses for the same place or country ("Pyongyang" for North Korea).

Reports name a government by its capital ("Pyongyang said", "Washington warned") and a
country by its adjective ("Russian troops"); a question that says "Pyongyang" is covered by
a passage that says "North Korea". The verifier's coverage signals look a missing term up
here before counting it missing.
"""

from __future__ import annotations

import re
from functools import cache

# Each group names one thing; a term of a group is found when any other member is.
_GROUPS = (
    ("pyongyang", "north korea", "north korean", "dprk"),
    ("seoul", "south korea", "south korean"),
    ("moscow", "kremlin", "russia", "russian"),
    ("washington", "united states", "u.s.", "us", "usa", "america", "american", "white house"),
    ("beijing", "china", "chinese"),
    ("kyiv", "kiev", "ukraine", "ukrainian"),
    ("soviet", "soviet union", "u.s.s.r.", "ussr"),
    ("london", "britain", "british", "uk", "united kingdom", "downing street"),
    ("brussels", "eu", "european union"),
    ("paris", "france", "french", "elysee"),
    ("berlin", "germany", "german"),
    ("tokyo", "japan", "japanese"),
    ("new delhi", "delhi", "india", "indian"),
    ("tehran", "iran", "iranian"),
    ("jerusalem", "israel", "israeli"),
    ("ankara", "turkey", "turkish", "turkiye"),
    ("warsaw", "poland", "polish"),
    ("rome", "italy", "italian"),
    ("madrid", "spain", "spanish"),
    ("ottawa", "canada", "canadian"),
    ("canberra", "australia", "australian"),
    ("west", "western"),
    ("un", "united nations"),
)
_BY_NAME = {name: group for group in _GROUPS for name in group}
_MULTI_WORD: dict[str, list[str]] = {}
for _name in _BY_NAME:
    for _word in _name.split() if " " in _name else ():
        _MULTI_WORD.setdefault(_word, []).append(_name)


@cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w])", re.IGNORECASE)


def alias_found(term: str, text: str, question: str = "") -> bool:
    """Whether ``text`` names what ``term`` names under another of its names; a word of a
    longer name in ``question`` ("Korea" of "North Korea") counts as that name."""
    word, asked = term.lower(), question.lower()
    names = [word] + [n for n in _MULTI_WORD.get(word, ()) if _pattern(n).search(asked)]
    return any(
        _pattern(other).search(text)
        for name in names
        for other in _BY_NAME.get(name, ())
        if other != name and other not in names
    )
