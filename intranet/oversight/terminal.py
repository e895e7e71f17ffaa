"""Where an audited action came from, in words: what the recorded 端末 and OS account mean.

A record keeps ``host`` and ``os_user`` as the writer found them, and they mean different
things by who acted (``intranet.audit.writer.Actor``):

- a member of staff on a screen: ``host`` is the address of the PC the browser ran on (nginx
  passes it on, ``deploy/intranet.ini``); ``os_user`` is the account the intranet's own server
  program runs as — the same for every screen action, nothing about the person;
- a command (``shinsei-intranet``, role ``cli``): ``host`` is the server's name, ``os_user``
  the account that typed it — 「root」 means an administrator on the intranet host itself;
- the transfer job (role ``transfer``): the server's name and the job's own account.
"""

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Terminal:
    """``where``: the short words for a table cell; ``meaning``: what they mean."""

    where: str
    meaning: str
    mapping: dict


def explain(role: str, host: str, os_user: str) -> Terminal:
    """The terminal of one record (message ids with ``mapping``: translate both)."""
    values = {"host": host or "—", "os_user": os_user or "—"}
    if role == "cli":
        if os_user == "root":
            return Terminal("サーバー上のコマンド（${host}、root）",
                            "管理者がイントラネットのサーバーで、管理者権限（root）のコマンドを"
                            "実行した操作です。職員の端末からの操作ではありません。", values)
        return Terminal("サーバー上のコマンド（${host}、${os_user}）",
                        "OS アカウント「${os_user}」がイントラネットのサーバーでコマンドを実行"
                        "した操作です。職員の端末からの操作ではありません。", values)
    if role == "transfer":
        return Terminal("転送ジョブ（${host}）",
                        "公開の処理を自動で行う転送ジョブが、サーバー上で OS アカウント"
                        "「${os_user}」として行った操作です。", values)
    if not host:
        return Terminal("記録なし", "この記録には端末が記録されていません。", values)
    if _loopback(host):
        return Terminal("サーバー自身（${host}）",
                        "イントラネットのサーバー上で開いたブラウザーからの操作です（職員の"
                        "端末ではありません）。", values)
    if _address(host):
        return Terminal("職員の端末（${host}）",
                        "画面を使った端末の IP アドレスです。どの端末かは、庁内の端末の"
                        "割り当て表で確認できます。OS アカウント「${os_user}」は職員画面の"
                        "サーバープログラムのもので、操作した人を表しません。", values)
    return Terminal("${host}", "記録された端末名です。", values)


def _address(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _loopback(host: str) -> bool:
    address = _address(host)
    return bool(address and address.is_loopback)
