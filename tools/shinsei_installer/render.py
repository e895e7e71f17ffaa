"""Templates from deploy/: every ``@NAME@`` filled, or an error naming the value and the file.

The values file gives what the city knows; a few placeholders are derived from it here
(the transfer destinations, the nftables rules per address family), so each rule lives in
one place and the templates stay readable.
"""

import ipaddress
import re
from pathlib import Path

from shinsei_installer.values import ValuesError, addresses

PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")
UPLOAD_USER = "shinsei-upload"
# Where HAProxy's agent check reaches the balancer's sequence agent (loopback only).
AGENT_PORT = 9707


def render(template: Path, values: dict[str, str]) -> str:
    text = template.read_text(encoding="utf-8")

    def fill(match):
        name = match.group(1)
        if name not in values:
            raise ValuesError(f"{template}: {name} の値がありません"
                              f"（サイト設定ファイルに {name} を入れてください）")
        return values[name]

    return PLACEHOLDER.sub(fill, text)


def _by_family(items: list[str]) -> dict[str, list[str]]:
    families = {"ip": [], "ip6": []}
    for item in items:
        network = ipaddress.ip_network(item, strict=False)
        families["ip" if network.version == 4 else "ip6"].append(item)
    return {family: found for family, found in families.items() if found}


def nft_rules(items: list[str], match: str, template: str, otherwise: str = "") -> str:
    """One nftables rule per address family: ``template`` has ``{family}`` and ``{set}``;
    ``match`` is ``saddr`` or ``daddr``. No address → ``otherwise`` (a comment by default)."""
    rules = [template.format(family=family, match=match, set="{ " + ", ".join(found) + " }")
             for family, found in _by_family(items).items()]
    return "\n        ".join(rules) or otherwise or "# (none)"


def derived(values: dict[str, str]) -> dict[str, str]:
    """The values the templates need beyond the file's own."""
    out = dict(values)
    peer = addresses(values.get("STANDBY_HOST", "") or values.get("PRIMARY_HOST", ""))
    out["SSH_FROM_MANAGEMENT"] = nft_rules(addresses(values["MANAGEMENT_ADDRESS"]), "saddr",
                                           "tcp dport 22 {family} {match} {set} accept")
    if "PUBLIC_HOSTS" in values:
        hosts = destination_hosts(values)
        out["TRANSFER_DESTINATIONS"] = "\n    ".join(
            f"sftp://{UPLOAD_USER}@{_url_host(host)}:22/inbox" for host in hosts)
        out["SSH_TO_PUBLIC_HOSTS"] = nft_rules(hosts, "daddr",
                                               "{family} {match} {set} tcp dport 22 accept")
        out["DROP_TO_PUBLIC_HOSTS"] = nft_rules(hosts, "daddr", "{family} {match} {set} drop")
        out["DROP_FROM_PUBLIC_HOSTS"] = nft_rules(hosts, "saddr", "{family} {match} {set} drop")
        out["HTTPS_FROM_STAFF"] = nft_rules(addresses(values.get("STAFF_NETWORKS", "")), "saddr",
                                            "tcp dport 443 {family} {match} {set} accept",
                                            otherwise="tcp dport 443 accept")
    out["POSTGRESQL_FROM_PEER"] = nft_rules(peer, "saddr",
                                            "tcp dport 5432 {family} {match} {set} accept",
                                            otherwise="# (no standby)")
    if "PG_SHARED_BUFFERS" in values:       # a host with the intranet's database
        from shinsei_installer import replication  # (it needs common, which needs this)
        out["DATABASE_URL"] = replication.database_url(values)
    out["REAL_IP_FROM"] = real_ip_from(addresses(values.get("BALANCER_ADDRESSES", "")))
    # By name, not number: nft resolves the name each time it loads the rules, so a copy of
    # /etc/shinsei restored onto another host still means that host's pusher, whatever uid
    # its account got (common.firewall_steps names the account once the installer made it).
    account = values.get("PUSHER_ACCOUNT")
    out["PUSHER_ONLY_SSH"] = (f'meta skuid "{account}" drop' if account
                              else "# (no publication pusher on this host)")
    # With a standby, the builder's units reach the other intranet host (replication.py): its
    # account may open PostgreSQL there and nothing else, whatever cgroup layout the host has.
    builder = values.get("BUILDER_ACCOUNT")
    out["BUILDER_ONLY_PEER"] = "# (no standby: the builder's units have no network at all)"
    if builder and peer:
        allowed = nft_rules(peer, "daddr",
                            f'meta skuid "{builder}" {{family}} {{match}} {{set}} tcp dport 5432 accept')
        out["BUILDER_ONLY_PEER"] = f'{allowed}\n        meta skuid "{builder}" drop'
    if "INTRANET_HOST" in values:
        intranet = addresses(values["INTRANET_HOST"])
        out["SSH_FROM_INTRANET_HOST"] = nft_rules(intranet, "saddr",
                                                  "tcp dport 22 {family} {match} {set} accept")
        out["DROP_TO_INTRANET_HOST"] = nft_rules(intranet, "daddr", "{family} {match} {set} drop")
    return out


def destination_hosts(values: dict[str, str]) -> list[str]:
    """The public hosts the pusher sends to: its unit's IPAddressAllow= and its destinations."""
    return addresses(values.get("PUBLIC_HOSTS", ""))


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def real_ip_from(balancers: list[str]) -> str:
    """The public host's nginx lines that take the client's address from the balancer's
    X-Forwarded-For: from those addresses only, and only the address the balancer wrote
    (the header's last; real_ip_recursive off)."""
    if not balancers:
        return "# (no balancer: the client is the connection's own address)"
    return "\n    ".join([*(f"set_real_ip_from {item};" for item in balancers),
                          "real_ip_header X-Forwarded-For;", "real_ip_recursive off;"])


def balancer(values: dict[str, str]) -> dict[str, str]:
    """The balancer's values: one server line per public host, for HAProxy and for nginx
    (the same order, so a host keeps its place in the hash ring when another is added)."""
    hosts = destination_hosts(values)
    # HAProxy's server names, which the sequence agent answers for (agent-send).
    named = [(f"public{n}", _url_host(host)) for n, host in enumerate(hosts, start=1)]
    return {**values,
            "AGENT_PORT": str(AGENT_PORT),
            "HAPROXY_SERVERS": "\n    ".join(f'server {name} {host}:443 agent-send "{name}\\n"'
                                            for name, host in named),
            "AGENT_HOSTS": "".join(f"{name} = {host}:443\n" for name, host in named),
            "NGINX_SERVERS": "\n    ".join(f"server {_url_host(host)}:443 max_fails=1 "
                                          "fail_timeout=10s;" for host in hosts)}
