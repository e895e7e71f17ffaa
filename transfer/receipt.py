"""Receipt numbers: the one normaliser both the intranet and the public side use.

Residents and staff type receipt numbers in every width, with spaces and with whatever
dash their keyboard or their printed letter offers. NFKC folds widths but leaves several
dash-like characters alone, so those are stripped explicitly.
"""

import re
import unicodedata

# Every dash a receipt number may be printed or typed with. NFKC maps some of them
# (e.g. U+FF0D, U+FF70) to ASCII forms but not U+2010..U+2015, U+2212 or U+30FC.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\uff0d\u002d\u2043\ufe58\ufe63"

_STRIP = re.compile("[\\s" + re.escape(DASHES) + "]+")

# What a normalised receipt number may contain: letters and digits only. Families differ
# in length (8-digit postal, 15-digit online ...), so only the bounds are fixed here.
_VALID = re.compile(r"^[0-9A-Z]{4,32}$")


class InvalidReceiptNumber(ValueError):
    """The text cannot be a receipt number, even after normalisation."""


def normalise_receipt_number(text: str) -> str:
    """Return the canonical form of a receipt number (NFKC, no spaces/dashes, upper-case).

    Leading zeros are kept: receipt numbers are identifiers, not integers.
    """
    folded = unicodedata.normalize("NFKC", text)
    stripped = _STRIP.sub("", folded).upper()
    # Stripping can bring a combining mark next to a letter (NFKC turns a spacing accent
    # into space + combining mark): fold once more so the result is a fixed point.
    return unicodedata.normalize("NFKC", stripped)


def parse_receipt_number(text: str) -> str:
    """Normalise and validate; raise InvalidReceiptNumber if it cannot be one."""
    normalised = normalise_receipt_number(text)
    if not _VALID.match(normalised):
        raise InvalidReceiptNumber(text)
    return normalised
