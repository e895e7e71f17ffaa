"""One vocabulary: the documents, the staff screens and the installer's messages use none of
the terms docs/glossary.md retires (「束」, 「値ファイル」: words that read as translated, or
that disagree with the screens); the documents name roles as the screens do and say one thing
about when the transfer runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs/glossary.md"
# Words that merely contain a retired one (約束 is not a bundle).
INNOCENT = re.compile(r"約束|拘束|結束|束ね|花束")


def retired() -> dict[str, str]:
    """The glossary's table of retired terms: retired → the word to use instead."""
    section = GLOSSARY.read_text(encoding="utf-8").split("## 使わない言葉", 1)[1]
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|$", section, re.M)
    return {old: new for old, new in rows if old != "使わない言葉" and not old.startswith("---")}


def read_by_people() -> list[Path]:
    return sorted([*(ROOT / "docs").glob("*.md"), *(ROOT / "intranet/templates").rglob("*.jinja2"),
                   *(ROOT / "tools/shinsei_installer").glob("*.py"), ROOT / "README.md",
                   ROOT / "deploy/README.md"])


def test_the_glossary_retires_the_terms_the_issue_named():
    terms = retired()
    assert {"束", "値ファイル", "四つの目", "セキュリティ担当者"} <= set(terms)
    assert all(new for new in terms.values())


def test_no_document_screen_or_installer_message_uses_a_retired_term():
    terms = retired()
    found = []
    for path in read_by_people():
        if path == GLOSSARY:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = INNOCENT.sub("", line)
            found += [f"{path.relative_to(ROOT)}:{number}: 「{old}」→「{new}」"
                      for old, new in terms.items() if old in line]
    assert found == [], "\n".join(found)


def test_the_role_names_in_the_documents_are_the_screens_names():
    from intranet.web import LABELS

    roles = LABELS["role_labels"]
    assert roles["supervisor"] == "監督者" and roles["security_officer"] == "セキュリティ担当"
    glossary = GLOSSARY.read_text(encoding="utf-8")
    assert all(f"| {name} |" in glossary for name in roles.values())
    # The Japanese documents name the approving role as the screens do.
    for name in ("install.ja.md", "runbook.ja.md"):
        text = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert "監督者" in text and "承認者" not in text, name


def test_the_documents_say_one_thing_about_when_the_transfer_runs():
    timer = (ROOT / "deploy/systemd/shinsei-transfer.timer").read_text(encoding="utf-8")
    path = (ROOT / "deploy/systemd/shinsei-transfer-approved.path").read_text(encoding="utf-8")
    assert "OnCalendar=Mon..Fri 10:00" in timer and "Unit=shinsei-transfer.service" in path
    for name in ("install.ja.md", "runbook.ja.md", "glossary.md"):
        # Japanese lines wrap anywhere: read the text without its white space.
        text = re.sub(r"\s+", "", (ROOT / "docs" / name).read_text(encoding="utf-8"))
        assert "その場で転送ジョブが起動" in text or "承認と同時に転送ジョブが起動" in text, name
        assert "shinsei-transfer-approved.path" in text and "平日10時の定時実行" in text, name
        assert "送り残し" in text, name
    for name in ("install.en.md", "runbook.en.md"):
        text = " ".join((ROOT / "docs" / name).read_text(encoding="utf-8").split())
        assert "starts the transfer job at once" in text or "starts at once" in text, name
        assert "weekday 10:00 run" in text and "left over" in text, name
