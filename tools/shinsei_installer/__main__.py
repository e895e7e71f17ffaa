"""``install.sh --role intranet|intranet-standby|public|balancer [--config FILE] [--check]
[--root DIR]``"""

import argparse
import hashlib
import sys
from pathlib import Path

from shinsei_installer import balancer, common, intranet, public, standby, upgrade, values
from shinsei_installer.common import Bundle
from shinsei_installer.host import Host, InstallError
from shinsei_installer.steps import Directory

PLANS = {"intranet": intranet.plan, "intranet-standby": standby.plan, "public": public.plan,
         "balancer": balancer.plan}
# What the administrator carries next, printed after an install (docs/install.*.md).
AFTERWARDS = {"intranet": intranet.afterwards, "intranet-standby": standby.afterwards,
              "public": public.afterwards, "balancer": balancer.afterwards}
APPS = {"intranet": intranet.APPS, "intranet-standby": standby.APPS, "public": public.APPS,
        "balancer": balancer.APPS}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    host = Host(Path(args.root))
    bundle = Bundle(Path(args.bundle).resolve())
    try:
        verify_bundle(bundle)
        config = Path(args.config) if args.config else host.path("/etc/shinsei/site.env")
        steps = unique(PLANS[args.role](bundle, host, values.load(config, args.role)))
        if args.check:
            return check(steps, host, upgrade.detect(host, bundle, args.role))
        install(steps, host, APPS[args.role], upgrade.detect(host, bundle, args.role))
        print(AFTERWARDS[args.role](host))
        return 0
    except upgrade.UpgradeFailed as error:
        print(f"install.sh: {error}", file=sys.stderr)
        return error.exit_code
    except (values.ValuesError, InstallError) as error:
        print(f"install.sh: {error}", file=sys.stderr)
        return 2


def verify_bundle(bundle: Bundle) -> None:
    """Every file the bundle lists in SHA256SUMS is there and unchanged."""
    sums = bundle.root / "SHA256SUMS"
    if not sums.exists():
        raise InstallError(f"{sums} がありません: "
                           "リリースの配布物（tar.gz）を展開した中から実行してください")
    for number, line in enumerate(sums.read_text().splitlines(), start=1):
        digest, name = line.split(maxsplit=1)
        path = bundle.root / name.lstrip("*")
        if not path.is_file():
            raise InstallError(f"{sums}:{number}: {name} がありません（配布物が壊れています）")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise InstallError(f"{sums}:{number}: {name} の SHA-256 が違います"
                               "（配布物が壊れているか改変されています）")


def unique(steps):
    """Several parts of a plan may need the same directory: it is one step."""
    out, seen = [], []
    for step in steps:
        if isinstance(step, Directory):
            if step in seen:
                continue
            seen.append(step)
        out.append(step)
    return out


def check(steps, host, pending_upgrade=None) -> int:
    differences = []
    if pending_upgrade is not None:
        print(f"  注: {pending_upgrade.describe()}（実行すると、新しい venv、"
              + ("バックアップ、" if pending_upgrade.role == "intranet" else "")
              + "切り替え、再起動、確認を行い、失敗すれば元に戻します）")
    for step in steps:
        # A half-installed host (a venv moved away, a file missing) is reported, never a crash.
        try:
            differences += step.differences(host) + step.unresolved(host)
            for note in step.notes(host):
                print(f"  注: {note}")
        except (OSError, InstallError) as error:
            differences.append(f"{describe(step)}: 確かめられません（{error}）")
    for line in differences:
        print(f"  違い: {line}")
    print(f"{len(differences)} 件の違いがあります" if differences
          else "期待どおりの状態です（違いはありません）")
    return 1 if differences else 0


def describe(step) -> str:
    return getattr(step, "path", None) or getattr(step, "what", None) or type(step).__name__


def install(steps, host, apps, pending_upgrade=None) -> None:
    """Every step to its state, then the handlers; an upgrade (another version was running)
    is prepared first (new venv, backup), verified after, and put back if anything fails."""
    if pending_upgrade is not None:
        pending_upgrade.prepare(steps)
    journal = upgrade.Journal()
    pending: set[str] = set()
    changed = 0
    try:
        for step in steps:
            differences = step.differences(host)
            if differences:
                for line in differences:
                    print(f"  変更: {line}")
                journal.keep(step, host)
                step.apply(host)
                if isinstance(step, common.SwitchVenv):
                    journal.switched(step)
                pending.update(step.handlers)
                changed += len(differences)
            for note in step.notes(host) + step.unresolved(host):
                print(f"  注: {note}")
        if host.live:
            run = common.handlers(host, apps)
            for name in common.HANDLER_ORDER:
                if name in pending:
                    print(f"  再読込: {name}")
                    run[name]()
        if pending_upgrade is not None:
            pending_upgrade.verify()
    except Exception as error:
        if pending_upgrade is None:
            raise
        raise pending_upgrade.roll_back(journal, pending, apps, error) from error
    for removed in upgrade.prune(host):
        print(f"  削除: {removed}（使っている版と一つ前の版だけを残します）")
    print(f"{changed} 件を変更しました" if changed else "変更はありません（すでに期待どおりの状態です）")


def parser() -> argparse.ArgumentParser:
    here = Path(__file__).resolve().parent.parent
    p = argparse.ArgumentParser(prog="install.sh",
                                description="shinsei-status をこのホストに入れる（オフライン）")
    p.add_argument("--role", choices=sorted(PLANS), required=True,
                   help="intranet（庁内）、intranet-standby（庁内のデータベースのスタンバイ）、public（公開）"
                        "か balancer（公開ホストの前のロードバランサー）")
    p.add_argument("--config", help="サイト設定ファイル（既定: /etc/shinsei/site.env）")
    p.add_argument("--check", action="store_true", help="何も変えず、期待される状態との違いを表示する")
    p.add_argument("--root", default="/", help="このディレクトリを / として入れる（試験用）")
    p.add_argument("--bundle", default=str(here), help=argparse.SUPPRESS)
    return p


if __name__ == "__main__":
    sys.exit(main())
