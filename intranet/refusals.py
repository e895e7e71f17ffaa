"""The one shape of "no" on the intranet: a Japanese message id and the values it names.

Every rule that refuses a request (a status change, an import, a publication decision, an
account change, a form field) raises a ``Refused``. Screens show ``refused.explain(request)``
(translated into the user's language); the CLI prints ``str(refused)`` (Japanese, filled in).
"""

from string import Template
from typing import Any, Protocol


class Translates(Protocol):
    def translate(self, message: str, **mapping: Any) -> str: ...


class Refused(Exception):
    """A request the rules refuse. ``field`` names the form field at fault, when one is."""

    field: str = ""

    def __init__(self, message: str, **mapping: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mapping = mapping

    def __str__(self) -> str:
        return Template(self.message).safe_substitute(self.mapping)

    def explain(self, request: Translates) -> str:
        """The message in the request's language, values filled in."""
        return request.translate(self.message, **self.mapping)
