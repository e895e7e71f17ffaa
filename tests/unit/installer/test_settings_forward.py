"""Settings an earlier bundle installed, brought forward by install.sh (forward.py).

The files under ``b6480a2/`` are that commit's templates (deploy/*.ini), the bundle the
upgrade test starts from (tests/e2e/older.py): rendered with a city's values they are what
such a host holds. After install.sh, the runbook's key rotation works with them (the signer
signs with every key in its folder, the pusher trusts every key in its own, the public host
reads the lookup-key folder, the maintenance file is watched), the backups carry the TLS
certificate and key; a value the city wrote itself is reported and never rewritten; every
changed file keeps its old content beside it; a second run changes nothing.
"""

import configparser
import stat
from pathlib import Path

import pytest
from shinsei_installer import __main__ as installer
from shinsei_installer import forward, intranet, public, render, upgrade
from shinsei_installer.host import Host

from intranet import settings as intranet_settings
from intranet.backups.settings import BackupSettings
from lab.deploy_sites import SAMPLE
from public_mirror.lookup_keys import LookupKeys
from transfer import config
from transfer.keys import generate_lookup_key, generate_signing_key, key_id, load_lookup_key
from transfer.lookup import lookup_key_id
from transfer.verify import Origin

OLDER = Path(__file__).parent / "b6480a2"
DEPLOY = Path(__file__).parents[3] / "deploy"
VALUES = SAMPLE


class Bundle:
    deploy = DEPLOY


def place(root: Path, path: str, text: str, mode: int = 0o644) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(mode)
    return target


def older(name: str) -> str:
    """The earlier template as install.sh rendered it on a city's host."""
    return render.render(OLDER / name, VALUES)


@pytest.fixture
def intranet_host(tmp_path):
    """An intranet host as the earlier bundle left it: its ini files and its keys (the
    pusher's copy of the signer's public key beside its SSH key, no trusted/ folder)."""
    root = tmp_path / "root"
    for name, mode in (("signer.ini", 0o640), ("pusher.ini", 0o640), ("intranet.ini", 0o644)):
        place(root, f"/etc/shinsei/{name}", older(name), mode)
    signer = root / "etc/shinsei/signer"
    signer.mkdir(parents=True)
    generate_signing_key(signer / "sign.key", signer / "sign.key.pub")
    pusher = root / "etc/shinsei/pusher"
    pusher.mkdir(parents=True)
    (pusher / "sign.key.pub").write_bytes((signer / "sign.key.pub").read_bytes())
    return Host(root)


@pytest.fixture
def public_host(tmp_path):
    root = tmp_path / "root"
    place(root, "/etc/shinsei/mirror.ini", older("mirror.ini"))
    generate_lookup_key(root / "etc/shinsei/lookup.key")
    (root / "etc/shinsei/lookup-keys").mkdir()
    return Host(root)


def steps_of_intranet():
    return {step.path.rsplit("/", 1)[1]: step for step in intranet.settings_forward(Bundle, VALUES)}


def bring_forward(host, steps):
    """What install.sh does with each step: its differences, then apply."""
    said = []
    for step in steps:
        said += step.differences(host)
        step.apply(host)
    return said


def section(host, path, name):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(host.path(path).read_text(encoding="utf-8"))
    return dict(parser.items(name))


def on_host(host, settings):
    """The settings with their absolute paths inside the test's root (a real host reads
    them from /)."""
    return {key: value.replace("/etc/shinsei", str(host.path("/etc/shinsei")))
            for key, value in settings.items()}


def test_the_earlier_shapes_are_what_breaks_the_runbook(intranet_host, public_host):
    """Why this exists: with the earlier files a rotation's next key is never used, the
    pusher keeps trusting the old key alone, and a backup set has no TLS files."""
    host = intranet_host
    signer = host.path("/etc/shinsei/signer")
    generate_signing_key(signer / "sign-next.key", signer / "sign-next.key.pub")
    signing = config.signer_settings(on_host(host, section(
        host, "/etc/shinsei/signer.ini", "shinsei-transfer"))).signing_keys
    assert len(signing) == 1
    backup = BackupSettings.from_settings(intranet_settings.load(
        section(host, "/etc/shinsei/intranet.ini", "app:main"), environ={}, web=False))
    assert backup.host_files == ()
    mirror = section(public_host, "/etc/shinsei/mirror.ini", "app:main")
    assert mirror["mirror.lookup_key"] == "/etc/shinsei/lookup.key"
    assert "mirror.maintenance_file" not in mirror


def test_the_signer_signs_with_every_key_in_its_folder_after_the_upgrade(intranet_host, capsys):
    host = intranet_host
    step = steps_of_intranet()["signer.ini"]
    said = step.differences(host)
    assert said == ["/etc/shinsei/signer.ini: transfer.signing_keys = /etc/shinsei/signer/sign.key "
                    "を /etc/shinsei/signer にする（以前の版の形。署名係がフォルダーの *.key すべてで"
                    "署名し、鍵の更新で次の鍵をフォルダーに置くだけで使われるように）"]
    before = host.path("/etc/shinsei/signer.ini").read_text()
    step.apply(host)
    after = host.path("/etc/shinsei/signer.ini").read_text()
    # One line changed; comments and every other value as they were.
    assert [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b] == [
        ("transfer.signing_keys = /etc/shinsei/signer/sign.key",
         "transfer.signing_keys = /etc/shinsei/signer")]
    assert "/etc/shinsei/signer.ini を今の版の形にしました（元の内容は /etc/shinsei/signer.ini.bak-" \
        in capsys.readouterr().out
    # The runbook's first rotation step: the next key beside the old one is used at once.
    signer = host.path("/etc/shinsei/signer")
    generate_signing_key(signer / "sign-next.key", signer / "sign-next.key.pub")
    keys = config.signer_settings(on_host(host, section(
        host, "/etc/shinsei/signer.ini", "shinsei-transfer"))).signing_keys
    assert len(keys) == 2


def test_the_pusher_trusts_its_folder_and_so_the_key_after_a_rotation(intranet_host):
    host = intranet_host
    # install.sh's key steps run first: the trusted folder holds the signer's public key.
    trusted = host.path("/etc/shinsei/pusher/trusted")
    trusted.mkdir()
    (trusted / "intranet-sign.pub").write_bytes(
        host.path("/etc/shinsei/signer/sign.key.pub").read_bytes())
    step = steps_of_intranet()["pusher.ini"]
    assert step.differences(host) == [
        "/etc/shinsei/pusher.ini: transfer.public_keys = /etc/shinsei/pusher/sign.key.pub を "
        "/etc/shinsei/pusher/trusted にする（以前の版の形。転送係がフォルダーの *.pub すべてを"
        "信頼し、鍵の更新で次の鍵をフォルダーに置くだけで使われるように）"]
    step.apply(host)
    # The runbook: the next key's public half in trusted/, then it replaces the old one.
    next_pub = trusted / "intranet-sign-next.pub"
    new = generate_signing_key(host.path("/etc/shinsei/signer/sign-next.key"), next_pub)
    next_pub.rename(trusted / "intranet-sign.pub")
    settings = on_host(host, section(host, "/etc/shinsei/pusher.ini", "shinsei-transfer"))
    trusted_ids = [key_id(k) for k in config.trust_policy(settings).keys]
    assert trusted_ids == [new.key_id]


def test_the_backups_carry_the_tls_certificate_and_key(intranet_host):
    host = intranet_host
    step = steps_of_intranet()["intranet.ini"]
    said = step.differences(host)
    # and transfer.destinations, transfer.origin, shinsei.database_passfiles and
    # publication.prepare_file
    assert len(said) == len(intranet.BACKUP_SETTINGS) + 4
    assert "transfer.destinations がありません" in "\n".join(said)
    assert "transfer.origin がありません" in "\n".join(said)
    assert ("/etc/shinsei/intranet.ini: backup.host_files がありません。テンプレートの値"
            "（/etc/shinsei/tls/site.crt /etc/shinsei/tls/site.key）で加える") in "\n".join(said)
    step.apply(host)
    loaded = intranet_settings.load(section(host, "/etc/shinsei/intranet.ini", "app:main"),
                                    environ={}, web=False)
    backup = BackupSettings.from_settings(loaded)
    # The origin, now spelt as the steps' inis spell it, is the one the old lines named.
    assert config.origin(loaded) == Origin(loaded["shinsei.municipality_code"],
                                           loaded["shinsei.environment"])
    assert backup.host_files == (Path("/etc/shinsei/tls/site.crt"), Path("/etc/shinsei/tls/site.key"))
    # The block sits inside [app:main], with the template's comments, before [server:main].
    text = host.path("/etc/shinsei/intranet.ini").read_text()
    assert text.index("# Outside /etc/shinsei, what a fresh host needs") < text.index(
        "backup.host_files") < text.index("[server:main]")
    assert "publication.trigger_file = /var/lib/shinsei/publish-requested\n\n# Backups" in text
    assert text.index("publication.prepare_file = /var/lib/shinsei/prepare-requested") < text.index(
        "[server:main]")


def test_a_second_run_changes_nothing(intranet_host, public_host):
    for host, steps in ((intranet_host, [steps_of_intranet()["signer.ini"],
                                         steps_of_intranet()["intranet.ini"]]),
                        (public_host, [public.mirror_settings_forward(Bundle, VALUES)])):
        assert bring_forward(host, steps)
        texts = [host.path(step.path).read_text() for step in steps]
        assert bring_forward(host, steps) == []
        assert [host.path(step.path).read_text() for step in steps] == texts
        assert all(step.unresolved(host) == [] for step in steps)
        # One copy of each file as it was, and only one.
        assert all(len(list(host.path("/etc/shinsei").glob(f"{Path(step.path).name}.bak-*"))) == 1
                   for step in steps)


def test_the_copy_kept_is_the_old_file_with_its_owner_and_mode(intranet_host):
    host = intranet_host
    old = host.path("/etc/shinsei/signer.ini").read_text()
    steps_of_intranet()["signer.ini"].apply(host)
    [kept] = host.path("/etc/shinsei").glob("signer.ini.bak-*")
    assert kept.read_text() == old
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert stat.S_IMODE(host.path("/etc/shinsei/signer.ini").stat().st_mode) == 0o640


def test_the_public_host_reads_the_lookup_key_folder_and_the_maintenance_file(public_host):
    host = public_host
    step = public.mirror_settings_forward(Bundle, VALUES)
    said = step.differences(host)
    assert said[0].startswith("/etc/shinsei/mirror.ini: mirror.lookup_key = /etc/shinsei/lookup.key"
                              " を /etc/shinsei/lookup.key /etc/shinsei/lookup-keys にする")
    assert said[1].startswith("/etc/shinsei/mirror.ini: mirror.maintenance_file がありません。"
                              "テンプレートの値（/etc/shinsei/maintenance）で加える")
    step.apply(host)
    mirror = section(host, "/etc/shinsei/mirror.ini", "app:main")
    assert mirror["mirror.maintenance_file"] == "/etc/shinsei/maintenance"
    # The runbook's lookup-key rotation: the next key placed in lookup-keys/ answers.
    generate_lookup_key(host.path("/etc/shinsei/lookup-keys/lookup-next.key"))
    keys = LookupKeys(on_host(host, mirror)["mirror.lookup_key"].split())
    assert lookup_key_id(load_lookup_key(host.path("/etc/shinsei/lookup-keys/lookup-next.key"))) \
        in keys.ids()
    assert len(keys.ids()) == 2
    # The rest of the file as the city had it.
    assert mirror["site.municipality_name"] == "千代田区"


def test_a_value_the_city_wrote_is_reported_and_left_alone(intranet_host, capsys):
    """The earlier runbook said to list both keys in transfer.signing_keys by hand."""
    host = intranet_host
    path = host.path("/etc/shinsei/signer.ini")
    text = path.read_text().replace(
        "transfer.signing_keys = /etc/shinsei/signer/sign.key",
        "transfer.signing_keys = /etc/shinsei/signer/sign.key\n    /etc/shinsei/signer/sign-2.key")
    path.write_text(text)
    step = steps_of_intranet()["signer.ini"]
    assert step.differences(host) == []
    [said] = step.unresolved(host)
    assert said.startswith("/etc/shinsei/signer.ini: transfer.signing_keys = /etc/shinsei/signer/"
                           "sign.key /etc/shinsei/signer/sign-2.key は以前の版の形です。自治体が"
                           "書き換えた値のため書き換えません")
    assert "/etc/shinsei/signer にしてください" in said
    step.apply(host)
    assert path.read_text() == text
    # `--check` counts it as a difference (exit 1) ...
    assert installer.check([step], host) == 1
    assert f"違い: {said}" in capsys.readouterr().out
    # ... an install says it and goes on.
    installer.install([step], host, ())
    out = capsys.readouterr().out
    assert f"注: {said}" in out and "変更はありません" in out


def test_a_folder_holding_another_key_is_not_named_in_place_of_one_file(intranet_host):
    """Naming the folder would sign with a key the city has not chosen to use."""
    host = intranet_host
    signer = host.path("/etc/shinsei/signer")
    generate_signing_key(signer / "old-unused.key", signer / "old-unused.key.pub")
    step = steps_of_intranet()["signer.ini"]
    assert step.differences(host) == []
    [said] = step.unresolved(host)
    assert "/etc/shinsei/signer にある鍵が今の値の鍵と同じではないため書き換えません" in said
    # The lookup-key folder on a public host, likewise.
    lookup = public.mirror_settings_forward(Bundle, VALUES)
    root = host.root
    place(root, "/etc/shinsei/mirror.ini", older("mirror.ini"))
    (root / "etc/shinsei/lookup-keys").mkdir(parents=True)
    generate_lookup_key(root / "etc/shinsei/lookup-keys/next.key")
    assert [line for line in lookup.differences(host) if "lookup_key" in line] == []
    assert "mirror.lookup_key" in lookup.unresolved(host)[0]


def test_check_names_every_old_shape_before_the_upgrade(intranet_host, capsys):
    steps = list(steps_of_intranet().values())
    assert installer.check(steps, intranet_host) == 1
    out = capsys.readouterr().out
    differences = [line for line in out.splitlines() if line.startswith("  違い: /etc/shinsei/")]
    for setting in ("transfer.signing_keys", "transfer.public_keys", "backup.host_files"):
        assert any(setting in line for line in differences), out


def test_a_failed_upgrade_puts_the_old_file_back(intranet_host):
    host = intranet_host
    step = steps_of_intranet()["signer.ini"]
    old = host.path("/etc/shinsei/signer.ini").read_bytes()
    journal = upgrade.Journal()
    journal.keep(step, host)
    step.apply(host)
    assert host.path("/etc/shinsei/signer.ini").read_bytes() != old
    journal.undo(host)
    assert host.path("/etc/shinsei/signer.ini").read_bytes() == old
    # The next attempt keeps no second copy of the same old file.
    step.apply(host)
    [kept] = host.path("/etc/shinsei").glob("signer.ini.bak-*")
    assert kept.read_bytes() == old


def test_settings_are_read_as_configparser_reads_them():
    text = "[a]\nx = 1\n# c\ny =\n    one\n    two\n[b]\nx = 2\n"
    assert forward.read_settings(text, "a") == {"x": (1, "1"), "y": (3, "one two")}
    assert forward.read_settings(text, "b") == {"x": (7, "2")}
