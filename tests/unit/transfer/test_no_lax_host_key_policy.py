"""A static check: no code in this repository may accept or merely warn about unknown host keys."""

from pathlib import Path

ROOT = Path(__file__).parents[3]
FORBIDDEN = ("AutoAdd" + "Policy", "Warning" + "Policy")


def test_no_auto_add_or_warning_policy_anywhere():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in FORBIDDEN if name in text]
    assert offenders == []
