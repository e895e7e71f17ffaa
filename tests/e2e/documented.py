"""The documents are test scripts: the commands a city runs, taken from the guide and the
runbook as they are written, and run on the booted hosts.

A command the documents give a city is a fenced block, tagged on the line before it::

    <!-- run: backup-now -->
    ```sh
    systemctl start shinsei-backup.service
    ```

The Japanese and the English document carry the same tags with the same commands (the prose
around them is translated; the commands are not). `run` takes a block as written, fills in its
`<PLACEHOLDER>`s with the values the step gives (the administrator's own file names, a
sequence number read off a screen), and runs it as root on a host with `sh -eu`: the first
command that fails fails the step, with the block's tag and output in the message.
`tests/unit/test_documented_commands.py` checks that every block is run by some step.
"""

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCUMENTS = {"install": ("docs/install.ja.md", "docs/install.en.md"),
             "runbook": ("docs/runbook.ja.md", "docs/runbook.en.md")}
# A block may stand inside a list item: the tag, the fences and the commands share its indent.
BLOCK = re.compile(r"^(?P<indent>[ ]*)<!-- run: (?P<tag>[a-z0-9-]+) -->\n(?P=indent)```sh\n"
                   r"(?P<body>.*?)^(?P=indent)```", re.M | re.S)
SHELL_FENCE = re.compile(r"^[ ]*```(?:sh|shell|bash|console)\s*$", re.M)
TAG_LINE = re.compile(r"[ ]*<!-- run: [a-z0-9-]+ -->")
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)>")
# A comment after a command is prose: translated, so left out when the languages are compared.
COMMENT = re.compile(r"(^|\s+)#\s.*$", re.M)
# What a step that runs a block is written as in tests/e2e (read by the unit test).
CALL = re.compile(r"""documented\.(?:run|commands)\(\s*[\w.]+,\s*["'](\w+)["'],\s*["']([a-z0-9-]+)["']""")


class DocumentError(AssertionError):
    """A document's blocks are not what a step can run: the message says which and why."""


def blocks(document: str) -> dict[str, str]:
    """Tag → commands of one document, the same in both languages."""
    found = [_blocks_of(ROOT / path) for path in DOCUMENTS[document]]
    first, *others = [{tag: COMMENT.sub("", body) for tag, body in blocks.items()} for blocks in found]
    for path, other in zip(DOCUMENTS[document][1:], others, strict=True):
        if other != first:
            differ = sorted(t for t in first.keys() | other.keys() if first.get(t) != other.get(t))
            raise DocumentError(f"{path}: commands differ from {DOCUMENTS[document][0]} "
                                f"in the blocks tagged {', '.join(differ)}")
    return found[0]


def _blocks_of(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for match in BLOCK.finditer(text):
        tag = match["tag"]
        if tag in out:
            line = text.count("\n", 0, match.start()) + 1
            raise DocumentError(f"{path.name}:{line}: the tag {tag} is used twice")
        out[tag] = "".join(line.removeprefix(match["indent"])
                           for line in match["body"].splitlines(keepends=True))
    return out


def untagged(path: Path) -> list[int]:
    """Line numbers of shell fences with no `<!-- run: … -->` line before them."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    return [text.count("\n", 0, m.start()) + 1 for m in SHELL_FENCE.finditer(text)
            if not TAG_LINE.fullmatch(lines[text.count("\n", 0, m.start()) - 1] if m.start() else "")]


def commands(document: str, tag: str, **values: str) -> str:
    """The block's commands with its placeholders filled in; every one must be given."""
    body = blocks(document).get(tag)
    if body is None:
        raise DocumentError(f"{DOCUMENTS[document][0]}: no block tagged {tag}")
    wanted = set(PLACEHOLDER.findall(body))
    if wanted != set(values):
        raise DocumentError(f"{tag}: the block has placeholders {sorted(wanted)}, "
                            f"the step gives {sorted(values)}")
    return PLACEHOLDER.sub(lambda m: values[m[1]], body)


def run(host, document: str, tag: str, check: bool = True, timeout: int = 900, cwd: str = "/root",
        input: str | None = None, explain=None, **values: str):
    """Run the block as root on `host`, as an administrator pasting it into a root shell in
    folder `cwd` (and typing `input` where a command asks). A failure's message ends with
    what `explain()` returns (e.g. the journals of the units that failed)."""
    script = commands(document, tag, **values)
    result = host.run("sh", "-eu", "-c", f"cd {cwd}\n{script}", check=False, timeout=timeout,
                      input=input)
    if check and result.returncode != 0:
        raise DocumentError(f"{DOCUMENTS[document][0]} [{tag}] on {host.name} failed "
                            f"(exit {result.returncode}):\n{script}\n--- output:\n"
                            f"{result.stdout[-2500:]}\n{result.stderr[-2500:]}"
                            + (f"\n{explain()}" if explain else ""))
    return result


def steps_that_run() -> set[tuple[str, str]]:
    """(document, tag) of every block a booted-hosts step runs."""
    found = set()
    for source in (ROOT / "tests" / "e2e").glob("*.py"):
        found.update(CALL.findall(source.read_text(encoding="utf-8")))
    return found
