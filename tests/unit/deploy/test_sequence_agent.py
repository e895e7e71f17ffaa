"""deploy/balancer/sequence_agent.py: which public host HAProxy is told is behind, its settings
file, and its answer on the agent port (the real HAProxy in front of real public hosts:
tests/integration/test_balancer.py)."""

import importlib.util
import socket
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location(
    "sequence_agent", ROOT / "deploy" / "balancer" / "sequence_agent.py")
assert SPEC and SPEC.loader
agent = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(agent)

OK, STALE = "ok", "stale"


def seen(**hosts):
    return {name: agent.Health(*value) for name, value in hosts.items()}


def test_a_host_that_held_the_newest_is_behind_only_after_the_grace():
    """A delivery reaches the hosts one after another: the one that has not got it yet
    stays in for the grace."""
    verdicts = agent.Verdicts(grace=10)
    assert verdicts.update(seen(public1=(OK, 41), public2=(OK, 41)), now=90) == {
        "public1": "up", "public2": "up"}
    hosts = seen(public1=(OK, 42), public2=(OK, 41))
    assert verdicts.update(hosts, now=100) == {"public1": "up", "public2": "up"}
    assert verdicts.update(hosts, now=109.9)["public2"] == "up"
    assert verdicts.update(hosts, now=110) == {
        "public1": "up", "public2": "down #behind: sequence 41 < newest 42"}
    # Caught up: back at once, and a later delivery gives it its grace again.
    assert verdicts.update(seen(public1=(OK, 42), public2=(OK, 42)), now=111)["public2"] == "up"
    assert verdicts.update(seen(public1=(OK, 43), public2=(OK, 42)), now=112)["public2"] == "up"


def test_a_host_that_comes_back_behind_is_out_at_once():
    """Off while publication 42 was delivered: said down while it was off, and still down
    the moment it answers again with 41, so HAProxy never puts it back in between."""
    verdicts = agent.Verdicts(grace=10)
    verdicts.update(seen(public1=(OK, 41), public2=(OK, 41)), now=0)
    assert verdicts.update(seen(public1=(OK, 42), public2=(None, None)), now=5) == {
        "public1": "up", "public2": "down #unreachable"}
    assert verdicts.update(seen(public1=(OK, 42), public2=(OK, 41)), now=60)["public2"] == \
        "down #behind: sequence 41 < newest 42"
    assert verdicts.update(seen(public1=(OK, 42), public2=(OK, 42)), now=62)["public2"] == "up"
    # The agent's first look (just restarted) has no "held the newest" to go by: out at once.
    fresh = agent.Verdicts(grace=10)
    assert fresh.update(seen(a=(OK, 2), b=(OK, 1)), now=0)["b"].startswith("down #behind")


def test_the_newest_host_is_never_behind_so_never_every_host_is_out():
    verdicts = agent.Verdicts(grace=0)
    words = verdicts.update(seen(a=(OK, 7), b=(OK, 5), c=("receiver_stopped", 7)), now=0)
    assert words == {"a": "up", "b": "down #behind: sequence 5 < newest 7", "c": "up"}
    assert verdicts.update(seen(a=(OK, 5), b=(OK, 5)), now=1) == {"a": "up", "b": "up"}


def test_a_host_that_does_not_answer_residents_is_down_as_its_healthz_says():
    """Never "up" for it; and a stale or damaged host's higher sequence does not put the
    answering ones "behind"."""
    verdicts = agent.Verdicts(grace=0)
    words = verdicts.update(seen(a=(STALE, 9), b=(OK, 5), c=(None, None), d=("none", None),
                                 e=(OK, None)), now=0)
    assert words == {"a": "down #stale", "b": "up", "c": "down #unreachable",
                     "d": "down #none", "e": "down #no sequence"}


def test_with_no_host_answering_the_agent_says_nothing():
    """Nothing to compare (or the agent's own network is cut off): every host is left to
    HAProxy's own check, so the agent cannot take out hosts HAProxy sees answering."""
    verdicts = agent.Verdicts(grace=0)
    assert verdicts.update(seen(a=(None, None), b=(STALE, 3)), now=1) == {"a": "", "b": ""}


@pytest.mark.parametrize(("text", "address"), [
    ("10.0.0.5", ("10.0.0.5", 443)), ("10.0.0.5:8443", ("10.0.0.5", 8443)),
    ("[2001:db8::5]:443", ("2001:db8::5", 443)), ("2001:db8::5", ("2001:db8::5", 443)),
    ("[2001:db8::5]", ("2001:db8::5", 443)), (" host.example:444 ", ("host.example", 444))])
def test_addresses_as_the_installer_writes_them(text, address):
    assert agent._address(text, 443) == address


def settings_file(tmp_path, text):
    path = tmp_path / "balancer-agent.ini"
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = """[agent]
listen = 127.0.0.1:9707
server_name = status.city.example.lg.jp
behind_grace = 5
[hosts]
public1 = 198.51.100.2:443
public2 = [2001:db8::3]:443
"""


def test_settings_read_from_the_file_the_installer_writes(tmp_path):
    settings = agent.read_settings(settings_file(tmp_path, GOOD))
    assert settings.listen == ("127.0.0.1", 9707) and settings.grace == 5
    assert settings.hosts == {"public1": ("198.51.100.2", 443), "public2": ("2001:db8::3", 443)}
    assert settings.ca_file == "/etc/ssl/certs/ca-certificates.crt"


@pytest.mark.parametrize(("text", "says"), [
    (GOOD.replace("[hosts]\npublic1 = 198.51.100.2:443\npublic2 = [2001:db8::3]:443\n",
                  "[hosts]\n"), "names no public host"),
    (GOOD.replace("server_name = status.city.example.lg.jp\n", ""), "server_name"),
    (GOOD.replace("9707", "port"), "port"),
    (GOOD.replace("behind_grace = 5", "behind_grace = soon"), "soon"),
    (GOOD.replace("[hosts]", "[hostz]"), "hosts")])
def test_a_wrong_settings_file_is_named_and_refused(tmp_path, capsys, text, says):
    path = settings_file(tmp_path, text)
    with pytest.raises(agent.SettingsError, match=says) as refused:
        agent.read_settings(path)
    assert path in str(refused.value)
    assert agent.main([path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sequence_agent: {path}") and "Traceback" not in err


def test_a_missing_settings_file_is_refused_without_a_traceback(tmp_path, capsys):
    assert agent.main([str(tmp_path / "absent.ini")]) == 2
    assert "absent.ini: cannot be read" in capsys.readouterr().err
    assert agent.main([]) == 2 and "usage" in capsys.readouterr().err


def ask_agent(port: int, line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(line)
        return conn.makefile("rb").readline()


def test_the_agent_port_answers_haproxys_line_with_one_word():
    verdicts = agent.Verdicts(grace=0)
    verdicts.update(seen(public1=(OK, 2), public2=(OK, 1), public3=(STALE, 2)), now=0)
    server = agent.AgentServer(("127.0.0.1", 0), verdicts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert ask_agent(port, b"public1\n") == b"up\n"
        assert ask_agent(port, b"public2\n") == b"down #behind: sequence 1 < newest 2\n"
        assert ask_agent(port, b"public3\n") == b"down #stale\n"
        # A name it does not know, or garbage: no word (it takes no host out).
        assert ask_agent(port, b"public9\n") == b"\n"
        assert ask_agent(port, b"\xff" * 1000 + b"\n") == b"\n"
    finally:
        server.shutdown()
        server.server_close()


def test_a_ca_file_it_cannot_read_stops_it_at_start_named(tmp_path, capsys):
    path = settings_file(tmp_path, GOOD.replace("behind_grace = 5",
                                                f"ca_file = {tmp_path}/absent.crt"))
    assert agent.main([path]) == 2
    err = capsys.readouterr().err
    assert f"ca_file = {tmp_path}/absent.crt" in err and "Traceback" not in err
