"""The accessibility statement (ウェブアクセシビリティ方針): the target, and the date and result
of the last automated check — recorded by the browser tests (tests/integration) into
``accessibility.json``, shipped with the package and read once at start-up."""

import json
from datetime import date
from pathlib import Path

RECORD = Path(__file__).parent / "accessibility.json"


def last_check(path: Path = RECORD) -> dict:
    record = json.loads(path.read_text(encoding="utf-8"))
    return {**record, "checked_on": date.fromisoformat(record["checked_on"])}


def record_check(pages: int, violations: int, tool: str, path: Path = RECORD) -> None:
    path.write_text(json.dumps({"checked_on": date.today().isoformat(), "tool": tool,
                                "pages": pages, "violations": violations},
                               ensure_ascii=False) + "\n", encoding="utf-8")
