"""Residents' languages: 日本語 (default), English, やさしい日本語 — and any other language
whose catalogue is dropped into ``public_mirror/locale/<code>/LC_MESSAGES/mirror.po``.

No cookies: the language travels in the URL (``?lang=en``) and in each form; only these
codes are ever used (``ResidentDesk.language``), whatever a request carries.
"""

from pathlib import Path

DEFAULT = "ja"
LOCALE_DIR = Path(__file__).parent / "locale"
# How each language names itself, for the language switch.
# Furigana markup (transfer.ruby): read on やさしい日本語 pages, plain on the others.
NATIVE_NAMES = {"ja": "{日本語|にほんご}", "en": "English", "ja-easy": "やさしい にほんご"}


def available_languages() -> list[str]:
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES").is_dir())
    return [DEFAULT, *[code for code in found if code != DEFAULT]]


def choose(value, languages: list[str]) -> str:
    """The language to answer in: one of the configured codes, whatever a request carries."""
    return value if isinstance(value, str) and value in languages else DEFAULT
