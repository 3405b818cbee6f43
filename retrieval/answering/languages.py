"""Which language a question is in, and whether the embedding model can read it.

An English-only model still returns its nearest passages for a question in Russian, and
those share no meaning with it, so a question in a language the model does not cover gets
a reply naming the languages it does. The script of the letters settles most cases; for
Latin-script languages a handful of function words that English does not use tell French,
German, Spanish, Italian, Portuguese and Dutch from English.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "he": "Hebrew", "el": "Greek",
    "hi": "Hindi", "th": "Thai", "hy": "Armenian", "ka": "Georgian", "bn": "Bengali",
    "ta": "Tamil", "fa": "Persian", "bg": "Bulgarian", "sr": "Serbian",
}  # fmt: skip

# The first word of a letter's Unicode name, and the languages mostly written in it.
SCRIPTS = {
    "CYRILLIC": ("ru", "uk", "bg", "sr"), "CJK": ("zh", "ja"), "HIRAGANA": ("ja",),
    "KATAKANA": ("ja",), "HANGUL": ("ko",), "ARABIC": ("ar", "fa"), "HEBREW": ("he",),
    "GREEK": ("el",), "DEVANAGARI": ("hi",), "THAI": ("th",), "ARMENIAN": ("hy",),
    "GEORGIAN": ("ka",), "BENGALI": ("bn",), "TAMIL": ("ta",),
}  # fmt: skip
_SCRIPT_NAMES = {"CJK": "Chinese characters", "HIRAGANA": "Japanese kana",
                 "KATAKANA": "Japanese kana", "HANGUL": "Hangul"}  # fmt: skip

# Question and function words of each language that are not English words (nor common in
# English names), so that two of them mark a question as not English.
FUNCTION_WORDS = {
    "fr": "le les est qui quand où pourquoi quel quelle quels une des du dans avec pour sont"
          " ont été cette comment combien",
    "de": "der das ist wer wann wo warum wie und nicht ein eine mit von für wird den dem im",
    "es": "el los las es quién cuándo dónde por qué cómo una del con para está son fue cuál",
    "it": "il chi quando dove perché che della delle sono è gli",
    "pt": "quem onde porque é uma dos das com não foi são em",
    "nl": "wie wanneer waar waarom het een niet van met voor zijn wordt",
}  # fmt: skip
_ENGLISH_WORDS = (
    "the is are was were who what when where why how which of in to a an and will did does do"
    " for on with has have been this that"
)
_ENGLISH = set(_ENGLISH_WORDS.split())
_FUNCTION_SETS = {code: set(words.split()) for code, words in FUNCTION_WORDS.items()}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Detected:
    """What a question is written in: a script, and the languages it may be."""

    script: str
    languages: tuple[str, ...]

    def describe(self) -> str:
        """'French', or 'Cyrillic script (Russian, Ukrainian, Bulgarian, Serbian)'."""
        names = ", ".join(NAMES.get(code, code) for code in self.languages)
        if self.script == "LATIN":
            return names
        what = _SCRIPT_NAMES.get(self.script, f"{self.script.title()} script")
        return f"{what} ({names})" if names else what


def detect(question: str) -> Detected | None:
    """The script (and candidate languages) of most of the question's letters; None when
    it is in Latin script and reads as English, or has no letters."""
    scripts = Counter(_script(char) for char in question if char.isalpha())
    others = Counter({script: n for script, n in scripts.items() if script != "LATIN"})
    if not scripts:
        return None
    if others.total() * 2 >= scripts.total():
        # Japanese mixes kana and CJK ideographs: the candidates are every script's languages.
        languages = (code for script in others for code in SCRIPTS.get(script, ()))
        return Detected(others.most_common(1)[0][0], tuple(dict.fromkeys(languages)))
    return _latin_language(question)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _latin_language(question: str) -> Detected | None:
    words = [w.lower() for w in _WORD.findall(question)]
    english = sum(word in _ENGLISH for word in words)
    hits = {code: sum(w in found for w in words) for code, found in _FUNCTION_SETS.items()}
    code, count = max(hits.items(), key=lambda item: item[1])
    if count >= 2 and count > english:
        return Detected("LATIN", (code,))
    return None


def language_problem(question: str, languages: Collection[str] | None) -> str | None:
    """A reply for a question in a language the model does not read, or None when it can
    (always None when ``languages`` is None: the model's languages are not known)."""
    if not languages:
        return None
    found = detect(question)
    if found is None or set(found.languages) & set(languages):
        return None
    names = " or ".join(NAMES.get(code, code) for code in languages)
    return (
        f"I can only answer questions in {names}: this question seems to be in "
        f"{found.describe()}, which my search model cannot read."
    )
