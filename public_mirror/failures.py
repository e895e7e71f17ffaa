"""Logging an unexpected failure for the operator without what the resident typed: where it
failed (the traceback's frames), never the exception's text, the body or the query."""

import logging
import traceback

log = logging.getLogger("public_mirror")


def log_failure(where: str, error: BaseException) -> None:
    log.error("unexpected %s on %s\n%s", type(error).__name__, where,
              "".join(traceback.format_tb(error.__traceback__)))
