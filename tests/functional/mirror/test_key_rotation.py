"""A public host through a lookup-key rotation and a leak, as docs/runbook.*.md does it:
residents are answered throughout; a snapshot made with a key the host does not hold is
refused (it would answer everyone "not found"); the maintenance file closes the page without
a restart."""

import pytest

from public_mirror import lookup_keys
from public_mirror.receive import receive_once
from public_mirror.settings import load
from transfer.keys import generate_lookup_key


@pytest.fixture
def host(public_host):
    """As installed: the lookup key, and a folder for the next one."""
    folder = public_host.root / "keys" / "lookup-keys"
    folder.mkdir()
    public_host.settings["mirror.lookup_key"] = (
        f"{public_host.root / 'keys' / 'lookup.key'} {folder}")
    public_host.settings["mirror.maintenance_file"] = str(public_host.root / "maintenance")
    public_host.next_key_folder = folder
    return public_host


def receive(host):
    """As the receiver unit runs it: with the host's lookup keys."""
    loaded = load(dict(host.settings))
    return receive_once(loaded["mirror.paths"], loaded["mirror.trust"],
                        lookup_keys=loaded["mirror.lookup_keys"])


def reads(app, receipt="00000002"):
    return app.post("/lookup", {"programme": "p2020", "receipt_number": receipt})


def test_a_lookup_key_rotation_answers_residents_throughout(host, monkeypatch):
    monkeypatch.setattr(lookup_keys, "REREAD_SECONDS", 0)
    host.drop(host.snapshot())
    assert [o.accepted for o in receive(host)] == [True]
    app = host.app()                                      # running before the rotation
    assert "振込予定です" in reads(app).text
    new = generate_lookup_key(host.root / "keys" / "lookup-next.key")
    # Published before the new key was carried: refused, the live snapshot keeps answering.
    host.drop(host.snapshot(secret=new), "early.bin")
    [early] = receive(host)
    assert not early.accepted and "UnknownLookupKey" in early.reason
    assert "carry the new lookup key here first" in early.reason
    assert "振込予定です" in reads(app).text
    # Carried beside the old one: the next snapshot is taken and answered, no restart.
    (host.root / "keys" / "lookup-next.key").rename(host.next_key_folder / "lookup-next.key")
    host.drop(host.snapshot(secret=new))
    assert [o.accepted for o in receive(host)] == [True]
    assert "振込予定です" in reads(app).text
    assert app.get("/healthz").json["status"] == "ok"
    # The old key retired (the new one in its place): still answered after a restart.
    (host.next_key_folder / "lookup-next.key").replace(host.root / "keys" / "lookup.key")
    assert "振込予定です" in reads(host.app()).text


def test_a_live_snapshot_whose_key_is_gone_says_updating_not_not_found(host):
    host.drop(host.snapshot())
    receive(host)
    # The new key put in the old one's place before a snapshot made with it arrived.
    generate_lookup_key(host.root / "keys" / "lookup-next.key")
    (host.root / "keys" / "lookup-next.key").replace(host.root / "keys" / "lookup.key")
    app = host.app()
    page = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000002"},
                    status=503)
    assert "見つかりません" not in page.text
    health = app.get("/healthz", status=503).json
    assert health["status"] == "broken" and "no lookup key lk-" in health["problem"]


def test_the_maintenance_file_closes_and_opens_the_page_without_a_restart(host, monkeypatch):
    from public_mirror import resident

    monkeypatch.setattr(resident, "MAINTENANCE_RECHECK", 0)
    host.drop(host.snapshot())
    receive(host)
    app = host.app()
    assert "振込予定です" in reads(app).text
    (host.root / "maintenance").touch()
    closed = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000002"},
                      status=503)
    assert "振込予定です" not in closed.text
    assert app.get("/healthz", status=503).json["status"] == "maintenance"
    (host.root / "maintenance").unlink()
    assert "振込予定です" in reads(app).text
    assert app.get("/healthz").json["status"] == "ok"


def test_status_names_the_signing_keys_the_lookup_key_and_maintenance(host, capsys):
    from public_mirror.cli import main
    from transfer.keys import generate_signing_key

    second = generate_signing_key(host.root / "keys" / "next.key", host.root / "keys" / "next.pub")
    host.settings["mirror.trusted_keys"] += f" {host.root / 'keys' / 'next.pub'}"
    host.drop(host.snapshot(keys=[host.signing_key, second]))
    receive(host)
    (host.root / "maintenance").touch()
    assert main(["-c", str(host.write_ini()), "status"]) == 0
    shown = capsys.readouterr().out
    ids = ", ".join(sorted([host.signing_key.key_id, second.key_id]))
    assert f"signed by {ids}; lookup key lk-" in shown
    assert f"maintenance: ON — residents see the maintenance page while {host.root}" in shown
