"""What is wrong with an import file, and where: line, column, value, why.

Messages are Japanese message ids (translated for the user's language on the page)."""

from dataclasses import dataclass, field

from intranet.refusals import Refused


@dataclass(frozen=True)
class RowError:
    line: int            # physical line in the file where the record starts (header = 1)
    column: str          # the header as written in the file ("" for the whole row)
    value: str
    message: str
    mapping: dict = field(default_factory=dict)


class ImportRefused(Refused):
    """The file cannot be read at all (encoding, binary, empty, header, forbidden column)."""
