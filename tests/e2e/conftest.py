"""The lab of booted hosts: one intranet host, two public hosts, a staff and a resident terminal.

Addresses are on the lab's own bridges only (see hosts.py); no namespace has a default route.
"""

import ipaddress

import pytest

from tests.e2e.hosts import Lab

LGWAN, INET = "10.231.7", "10.231.8"
INTRANET = f"{LGWAN}.1"
PUBLIC = {"public-1": (f"{LGWAN}.11", f"{INET}.11"), "public-2": (f"{LGWAN}.12", f"{INET}.12")}
STAFF, RESIDENT = f"{LGWAN}.100", f"{INET}.100"
# The balancer in front of the public hosts (install guide §9), on the residents' side only.
BALANCER = f"{INET}.20"
# More residents on the residents' terminal: the balancer spreads addresses over the public
# hosts by a hash of each, and each public host lets one address make 30 lookups a minute.
RESIDENTS = [f"{INET}.{n}" for n in range(101, 251)]
# Residents for the load figures: a network of their own beyond the residents' terminal, as
# the Internet is beyond the DMZ's router: the balancer and the public host measured alone
# reach it through the terminal's own address. A public host lets one address make about 20
# lookups at once, so a load of some seconds needs a thousand addresses; reached on the
# segment itself, each would be a neighbour entry of its own, and the machine's one ARP table
# (1,024 entries for every namespace together) overflowed: connections timed out.
LOAD_NETWORK = "10.231.12.0/22"
LOAD_RESIDENTS = [str(a) for a in ipaddress.ip_network(LOAD_NETWORK).hosts()]


def build_lab(workdir):
    lab = Lab(workdir)
    try:
        lab.staff = lab.terminal("staff", "lgwan", f"{STAFF}/24")
        lab.resident = lab.terminal("resident", "inet", f"{RESIDENT}/24")
        lab.intranet = add_intranet(lab, "intranet")
        lab.public = [lab.host(name, {"eth0": ("lgwan", f"{inner}/24"), "eth1": ("inet", f"{outer}/24")})
                      for name, (inner, outer) in PUBLIC.items()]
    except BaseException:
        lab.close()
        raise
    return lab


def add_intranet(lab, name):
    return lab.host(name, {"eth0": ("lgwan", f"{INTRANET}/24")})


def add_balancer(lab, name="balancer"):
    return lab.host(name, {"eth0": ("inet", f"{BALANCER}/24")})


def add_load_residents(lab, routed):
    """LOAD_RESIDENTS on the residents' terminal, and a route to them through its address on
    each (host, interface) of `routed`."""
    lab.resident.run("ip", "-batch", "-",
                     input="".join(f"addr add {a}/32 dev eth0\n" for a in LOAD_RESIDENTS))
    for host, interface in routed:
        host.run("ip", "route", "add", LOAD_NETWORK, "via", RESIDENT, "dev", interface)


def add_residents(lab):
    """The residents' terminal answers for every address in RESIDENTS too."""
    lab.resident.run("ip", "-batch", "-",
                     input="".join(f"addr add {a}/24 dev eth0\n" for a in RESIDENTS))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = build_lab(tmp_path_factory.mktemp("lab"))
    yield lab
    lab.close()
