"""`systemd-analyze security` on every shipped unit, as installed on the booted hosts, checked
against the figures docs/security-review.md states (so the sheet the security officer signs is
the one the test measured).

When a unit changes, run the e2e test with SHINSEI_UPDATE_SECURITY_REVIEW=1: it rewrites the
table between the markers; the reasons for every unit above 3.0 are written by a person, and
the test fails while one is missing.
"""

import os
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
REVIEW = ROOT / "docs" / "security-review.md"
UNITS = ROOT / "deploy" / "systemd"
BEGIN, END = "<!-- systemd-analyze:begin -->", "<!-- systemd-analyze:end -->"
LIMIT = 3.0
EXPOSURE = re.compile(r"Overall exposure level for (\S+): ([\d.]+) (\S+)")


def measure(host):
    """{unit: (exposure, verdict)} for every shinsei unit installed on `host`."""
    listed = host.run("systemctl", "list-unit-files", "--no-legend", "--plain", "shinsei-*.service").stdout
    figures = {}
    for unit in sorted(line.split()[0] for line in listed.splitlines() if line.strip()):
        output = host.run("systemd-analyze", "security", "--no-pager", unit).stdout
        found = EXPOSURE.search(output)
        assert found, f"{host.name}: systemd-analyze security {unit} printed no exposure:\n{output[-1500:]}"
        figures[unit] = (float(found.group(2)), found.group(3))
    return figures


# On the balancer host only, booted from step 13 on: measured there (step 16).
BALANCER_UNITS = {"shinsei-balancer-agent.service"}
ROW = re.compile(r"^\| `(\S+)` \| (\w+) \| ([\d.]+) \| (\S+) \|$", re.M)


def table(rows):
    lines = ["| unit | host | exposure | systemd's verdict |", "|---|---|---|---|"]
    lines += [f"| `{unit}` | {host} | {exposure:.1f} | {verdict} |"
              for (unit, host), (exposure, verdict) in sorted(rows.items())]
    return "\n".join(lines)


def stated(text):
    """The review's table: {(unit, host): (exposure, verdict)}."""
    section = text.split(BEGIN, 1)[1].split(END, 1)[0]
    return {(unit, host): (float(exposure), verdict)
            for unit, host, exposure, verdict in ROW.findall(section)}


def check_review(lab):
    """Every shipped unit measured on the host it runs on; the balancer's once it is booted
    (before that, the review's balancer rows are kept as they are)."""
    hosts = {"intranet": lab.intranet, "public": lab.public[0]}   # the public hosts are alike
    if getattr(lab, "balancer", None) is not None:
        hosts["balancer"] = lab.balancer
    rows = {(unit, role): figure for role, host in hosts.items()
            for unit, figure in measure(host).items()}
    measured = {unit for unit, _ in rows}
    shipped = {path.name for path in UNITS.glob("*.service")}
    if "balancer" not in hosts:
        shipped -= BALANCER_UNITS
    assert shipped <= measured, f"shipped but installed on no host: {sorted(shipped - measured)}"
    text = REVIEW.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{REVIEW} has no {BEGIN} … {END} section"
    kept = {key: figure for key, figure in stated(text).items() if key[1] not in hosts}
    wanted = table({**kept, **rows})
    current = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    if os.environ.get("SHINSEI_UPDATE_SECURITY_REVIEW") == "1":
        head, rest = text.split(BEGIN, 1)
        REVIEW.write_text(f"{head}{BEGIN}\n{wanted}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")
    else:
        assert current == wanted, ("docs/security-review.md states other exposure figures than "
                                   "measured; rerun with SHINSEI_UPDATE_SECURITY_REVIEW=1. Measured:\n"
                                   + wanted)
    reasons = text.split(END, 1)[1]
    unexplained = sorted({unit for (unit, _), (exposure, _) in rows.items()
                          if exposure > LIMIT and f"`{unit}`" not in reasons})
    assert not unexplained, f"above {LIMIT} with no reason given after the table: {unexplained}"
