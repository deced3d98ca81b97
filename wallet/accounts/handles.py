"""Suggested handles, made of two words in the person's language and a number.

Plain ASCII without accents, so each word is already a valid handle part
(wallet/types.py Handle: lowercase letters, digits and hyphens). The words are in the
language's own order ("renard-calme-42", "stiller-wald-42", "qamar-hadi-42"), and in German
and Arabic the adjective agrees with its noun (all nouns masculine)."""

from __future__ import annotations

import re
import secrets

# (first word, second word): adjective then noun, or noun then adjective.
WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        (
            "blue",
            "green",
            "quiet",
            "brave",
            "warm",
            "bright",
            "calm",
            "kind",
            "swift",
            "happy",
            "gentle",
            "golden",
            "silver",
            "sunny",
            "clever",
            "proud",
            "lucky",
            "noble",
            "merry",
            "wise",
        ),
        (
            "river",
            "forest",
            "meadow",
            "harbor",
            "valley",
            "garden",
            "island",
            "mountain",
            "bridge",
            "lantern",
            "willow",
            "sparrow",
            "falcon",
            "maple",
            "cedar",
            "pebble",
            "comet",
            "canyon",
            "orchard",
            "beacon",
        ),
    ),  # fmt: skip
    "fr": (
        (
            "soleil",
            "jardin",
            "chemin",
            "nuage",
            "village",
            "moulin",
            "bateau",
            "rocher",
            "ruisseau",
            "verger",
            "sapin",
            "castor",
            "renard",
            "hibou",
            "phare",
            "pont",
            "lac",
            "bois",
        ),
        (
            "calme",
            "doux",
            "vert",
            "bleu",
            "clair",
            "joli",
            "grand",
            "rapide",
            "sage",
            "brave",
            "heureux",
            "fort",
            "tranquille",
            "gentil",
            "rouge",
            "malin",
        ),
    ),  # fmt: skip
    "nl": (
        (
            "blauwe",
            "groene",
            "rustige",
            "vrolijke",
            "dappere",
            "zonnige",
            "gouden",
            "zachte",
            "snelle",
            "wijze",
            "lieve",
            "heldere",
        ),
        (
            "rivier",
            "tuin",
            "molen",
            "vogel",
            "brug",
            "haven",
            "berg",
            "boom",
            "vos",
            "uil",
            "zee",
            "maan",
            "ster",
            "wolk",
            "appel",
            "tulp",
        ),
    ),  # fmt: skip
    "de": (
        (
            "blauer",
            "ruhiger",
            "heller",
            "kluger",
            "froher",
            "sanfter",
            "mutiger",
            "goldener",
            "stiller",
            "schneller",
            "roter",
            "weiser",
            "warmer",
        ),
        (
            "fluss",
            "garten",
            "berg",
            "wald",
            "vogel",
            "mond",
            "stern",
            "baum",
            "fuchs",
            "hafen",
            "apfel",
            "weg",
            "turm",
            "bach",
        ),
    ),  # fmt: skip
    "ar": (
        (
            "qamar",
            "nahr",
            "bahr",
            "jabal",
            "wadi",
            "bustan",
            "nur",
            "hilal",
            "ghazal",
            "asad",
            "nakhil",
            "sahab",
        ),
        ("hadi", "jamil", "kabir", "karim", "latif", "azraq", "akhdar", "abyad", "said", "sadiq"),
    ),  # fmt: skip
}
DEFAULT = "en"
# The page's language cookie (web/i18n.py LANGUAGE_COOKIE; web sits above this package).
LANGUAGE_COOKIE = "wallet_lang"
_PART = re.compile(r"^[a-z]+$")


def language_of(asked: str | None, cookie: str | None = None, accept_language: str = "") -> str:
    """The language to suggest in: asked for, else the page's cookie, else the browser's or
    terminal's first known one, else English."""
    for candidate in (asked, cookie):
        if candidate and candidate.lower() in WORDS:
            return candidate.lower()
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower().replace("_", "-").split("-")[0]
        if tag in WORDS:
            return tag
    return DEFAULT


def suggest_handle(language: str = DEFAULT) -> str:
    first, second = WORDS.get(language, WORDS[DEFAULT])
    return f"{secrets.choice(first)}-{secrets.choice(second)}-{secrets.randbelow(90) + 10}"


def all_parts_valid() -> bool:
    """Every word is plain lowercase ASCII (checked by the tests)."""
    return all(_PART.match(word) for pair in WORDS.values() for words in pair for word in words)
