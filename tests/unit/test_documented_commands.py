"""Every command the install guide and the runbook give a city is a tagged block that a
booted-hosts step runs as written (tests/e2e/documented.py)."""

import pytest

from tests.e2e import documented


@pytest.mark.parametrize("document", sorted(documented.DOCUMENTS))
def test_both_languages_give_the_same_commands(document):
    documented.blocks(document)  # raises, naming the tags whose commands differ


@pytest.mark.parametrize("document", sorted(documented.DOCUMENTS))
def test_every_shell_block_is_tagged(document):
    for path in documented.DOCUMENTS[document]:
        lines = documented.untagged(documented.ROOT / path)
        assert lines == [], f"{path}: shell blocks without `<!-- run: TAG -->` at lines {lines}"


@pytest.mark.parametrize("document", sorted(documented.DOCUMENTS))
def test_every_block_is_run_by_a_booted_hosts_step(document):
    run = {tag for doc, tag in documented.steps_that_run() if doc == document}
    never = sorted(set(documented.blocks(document)) - run)
    assert never == [], f"{document}: blocks no booted-hosts step runs: {never}"


def test_every_step_runs_a_block_that_exists():
    missing = sorted((doc, tag) for doc, tag in documented.steps_that_run()
                     if tag not in documented.blocks(doc))
    assert missing == [], f"steps name blocks the documents do not have: {missing}"


def test_a_placeholder_must_be_given_and_nothing_else(monkeypatch):
    monkeypatch.setattr(documented, "blocks", lambda document: {"t": "restore <SET> && echo ok\n"})
    assert documented.commands("runbook", "t", SET="/var/backups/shinsei/x") == \
        "restore /var/backups/shinsei/x && echo ok\n"
    with pytest.raises(documented.DocumentError, match="placeholders"):
        documented.commands("runbook", "t")
    with pytest.raises(documented.DocumentError, match="placeholders"):
        documented.commands("runbook", "t", SET="x", OTHER="y")
    with pytest.raises(documented.DocumentError, match="no block tagged"):
        documented.commands("runbook", "missing")


def test_languages_that_disagree_are_named(tmp_path, monkeypatch):
    ja, en = tmp_path / "a.ja.md", tmp_path / "a.en.md"
    block = "<!-- run: backup-now -->\n```sh\n{}\n```\n"
    ja.write_text("# 手順\n" + block.format("systemctl start shinsei-backup.service"))
    en.write_text("# Steps\n" + block.format("systemctl start shinsei-backup"))
    monkeypatch.setattr(documented, "ROOT", tmp_path)
    monkeypatch.setitem(documented.DOCUMENTS, "runbook", ("a.ja.md", "a.en.md"))
    with pytest.raises(documented.DocumentError, match=r"a\.en\.md: commands differ .* backup-now"):
        documented.blocks("runbook")
    ja.write_text("```sh\nrm -rf /\n```\n" + block.format("x") + block.format("y"))
    assert documented.untagged(ja) == [1]
    with pytest.raises(documented.DocumentError, match="used twice"):
        documented._blocks_of(ja)


def test_the_runbook_steps_follow_its_table_of_contents():
    """tests/e2e/test_runbook.py's steps name runbook headings (`§ heading` opening each
    docstring) in the runbook's order, and every section that gives a command has a step."""
    import ast
    import re

    runbook = (documented.ROOT / documented.DOCUMENTS["runbook"][0]).read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", runbook, re.M)
    tree = ast.parse((documented.ROOT / "tests/e2e/test_runbook.py").read_text(encoding="utf-8"))
    steps = [(node.name, (ast.get_docstring(node) or "").split(":")[0].removeprefix("§ ").strip())
             for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    unknown = [(name, heading) for name, heading in steps
               if not any(h.startswith(heading) for h in headings)]
    assert unknown == [], f"steps whose `§` names no runbook heading: {unknown}"
    order = [next(i for i, h in enumerate(headings) if h.startswith(heading)) for _, heading in steps]
    assert order == sorted(order), f"steps out of the runbook's order: {steps}"
    sections = re.split(r"^## ", runbook, flags=re.M)[1:]
    with_commands = [s.splitlines()[0] for s in sections if "<!-- run: " in s]
    covered = {headings[i] for i in order}
    assert [h for h in with_commands if h not in covered] == [], "runbook sections with no step"
