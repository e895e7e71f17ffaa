"""The balancer in front of the public hosts (issue 29): HAProxy (Debian's package) or nginx,
from the same values file. It holds no key of the system's: only the residents' certificate,
the public hosts' addresses and the Japanese page for when none of them is healthy."""

import html
import re

from shinsei_installer import common, render
from shinsei_installer.common import PREFIX, Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Directory, File

AGENT = "shinsei-balancer-agent.service"
# Restarted after an upgrade, as each role's long-running services.
APPS = (AGENT,)
HAPROXY_PEM = "/etc/haproxy/shinsei.pem"
HAPROXY_PAGE = "/etc/haproxy/errors/shinsei-503.http"
NGINX_PAGE = f"{PREFIX}/errors/balancer/shinsei-unavailable.html"
# {漢字|かんじ}: furigana, as on the residents' pages.
RUBY = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")
TEXTS = ("MUNICIPALITY_NAME", "CONTACT", "CONTACT_EN", "CONTACT_EASY")
HOURS = {"HOURS_LINE": "HOURS", "HOURS_EN_LINE": "HOURS_EN", "HOURS_EASY_LINE": "HOURS_EASY"}


def plan(bundle: Bundle, host: Host, values: dict):
    for name in ("TLS_CERT", "TLS_KEY", "PUBLIC_HOSTS_CA"):
        if not host.path(values[name]).is_file():
            raise InstallError(f"{name} = {values[name]}: ファイルがありません"
                               f"（サイト設定ファイルの {name} を確かめてください）")
    values = render.balancer(values)
    page = unavailable_page(bundle, values)
    if values["BALANCER_ENGINE"] == "nginx":
        return [*common.nginx_steps(bundle, host, "balancer", values, replace_default=True),
                Directory(f"{PREFIX}/errors/balancer"), File(NGINX_PAGE, page.encode())]
    return [
        Directory("/etc/haproxy"),
        Directory("/etc/haproxy/errors"),
        File(HAPROXY_PAGE, http_503(page), handlers=("haproxy",)),
        # HAProxy reads certificate and key from one file: written from TLS_CERT and TLS_KEY
        # (a renewed certificate is taken by running install.sh --role balancer again).
        File(HAPROXY_PEM, lambda: host.path(values["TLS_CERT"]).read_bytes().rstrip(b"\n")
             + b"\n" + host.path(values["TLS_KEY"]).read_bytes(),
             mode=0o600, handlers=("haproxy",)),
        File("/etc/haproxy/haproxy.cfg",
             render.render(bundle.deploy / "balancer" / "haproxy.cfg", values).encode(),
             handlers=("haproxy",)),
        *agent_steps(bundle, values),
    ]


def agent_steps(bundle: Bundle, values: dict):
    """The sequence agent HAProxy asks which host is behind the others (deploy/balancer/)."""
    return [
        Directory(f"{PREFIX}/balancer"),
        File(f"{PREFIX}/balancer/sequence_agent.py",
             (bundle.deploy / "balancer" / "sequence_agent.py").read_bytes(), handlers=("apps",)),
        Directory(common.ETC),
        File(f"{common.ETC}/balancer-agent.ini",
             render.render(bundle.deploy / "balancer" / "agent.ini", values).encode(),
             handlers=("apps",)),
        *common.unit_steps(bundle, (AGENT,), (AGENT,)),
    ]


def unavailable_page(bundle: Bundle, values: dict) -> str:
    """deploy/balancer/unavailable.html with the city's name and contact, every text escaped,
    furigana as <ruby>."""
    filled = {name: html.escape(values.get(name, "")) for name in TEXTS}
    for line, name in HOURS.items():
        hours = html.escape(values.get(name, ""))
        filled[line] = f"<br>{hours}" if hours else ""
    text = render.render(bundle.deploy / "balancer" / "unavailable.html", filled)
    return RUBY.sub(r"<ruby>\1<rt>\2</rt></ruby>", text)


def http_503(page: str) -> bytes:
    """HAProxy's errorfile: the whole answer, headers included, sent as it is."""
    body = page.encode()
    head = ["HTTP/1.1 503 Service Unavailable", "Content-Type: text/html; charset=utf-8",
            f"Content-Length: {len(body)}", "Cache-Control: no-store", "Retry-After: 600",
            "Connection: close", "Strict-Transport-Security: max-age=31536000",
            "X-Content-Type-Options: nosniff", "X-Frame-Options: DENY",
            "Referrer-Policy: no-referrer"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def afterwards(host: Host) -> str:
    return ("次に: 各公開ホストのサイト設定ファイルに BALANCER_ADDRESSES（このホストのアドレス）を入れて "
            "install.sh --role public を実行し、住民向けの名前（SERVER_NAME）の DNS を"
            "このホストに向けてください（docs/install.ja.md「ロードバランサー」）。")
