"""How staff's names for coded things are compared: a status, a deficiency kind, an import
header are the same name whatever their width, case or spaces."""

import unicodedata


def fold(text: str) -> str:
    """Width, case and every space folded (as import headers and status names are)."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def fold_status(text: str) -> str:
    """Width, case and every space folded: 「不備あり　（書類返送）」 is 「不備あり(書類返送)」
    (the same folding as deficiency kinds' names)."""
    return fold(text)
