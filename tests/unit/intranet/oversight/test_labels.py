"""Every audit record in words: each action, detail and code the code writes has its label,
and each kind of value reads as a person expects."""

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from intranet.oversight import labels
from intranet.programmes import lifecycle

ROOT = Path(__file__).resolve().parents[4]


def _appends():
    """(action, detail keywords) of every writer.append(...) in the code."""
    found = []
    for path in sorted((ROOT / "intranet").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "append" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "writer"):
                continue
            action = node.args[2]
            actions = ([action.value] if isinstance(action, ast.Constant)
                       else [action.body.value, action.orelse.value]
                       if isinstance(action, ast.IfExp) else [])
            keywords = {k.arg for k in node.keywords
                        if k.arg and k.arg not in ("personal", "programme_personal")}
            found.append((path.name, actions, keywords))
    return found


def test_every_action_and_detail_written_has_its_words():
    appends = _appends()
    assert len(appends) > 30  # the scan itself works
    actions = {a for _, acts, _ in appends for a in acts}
    # Lifecycle steps pass their action through _step(); the checkpoint its as_dict().
    actions |= {"programme.lookup_close", "programme.archive", "programme.dispose"}
    assert actions - set(labels.ACTIONS) == set()
    keys = {k for _, _, kws in appends for k in kws}
    keys |= {"code", "at", "state_before", "disposal",             # lifecycle._step
             "count", "head_hash", "key_id", "signature"}          # Checkpoint.as_dict
    assert keys - set(labels.DETAILS) == set()


def test_the_filter_offers_every_action_once():
    offered = [a for _, _, actions in labels.action_groups() for a in actions]
    assert sorted(offered) == sorted(labels.ACTIONS)


def _words(locale="ja"):
    return labels.Vocabulary(lambda message, **mapping: _fill(message, mapping), locale,
                             {"paid": "振込済", "reviewing": "審査中"}, {3: "yamada"},
                             {"tokubetsu": "特別定額給付金", "1": "特別定額給付金"})


def _fill(message, mapping):
    for name, value in mapping.items():
        message = message.replace("${" + name + "}", str(value))
    return message


def _record(action, target="", role="staff", **details):
    return SimpleNamespace(action=action, target=target, actor_role=role,
                           details=json.dumps(details))


def test_actions_by_name_and_an_unknown_one_never_by_code():
    assert labels.action_label("application.status") == "状況の変更"
    assert labels.action_label("login.failure") == "ログインの失敗"
    assert labels.action_label("something.new") == "その他の操作"


@pytest.mark.parametrize("key, value, shown", [
    ("status_before", "paid", "振込済"),                      # the catalogue's label
    ("next", ["paid", "reviewing"], "振込済、審査中"),
    ("retention_ends_on", "2031-03-31", "2031年3月31日"),      # dates as Japanese read them
    ("at", "2026-11-26T03:00:00.123456", "2026年11月26日 12:00"),  # stored UTC, shown JST
    ("at", "2026-11-26T03:00:00.000000Z", "2026年11月26日 12:00"),
    ("is_active", False, "いいえ"),
    ("reason", "credentials", "名前またはパスワードの誤り"),
    ("result", "failed", "失敗"),
    ("kind", "status", "状況だけのファイル"),
    ("encoding", "cp932", "CSV（Shift_JIS）"),
    ("state", "requested", "承認待ち"),
    ("state_before", lifecycle.LOOKUP_CLOSED, "照会終了"),
    ("role", "supervisor", "監督者"),
    ("programme", "tokubetsu", "特別定額給付金"),
    ("approved_by", 3, "yamada"),
    ("needs", [True, False, True], "振込予定日、不備内容"),
    ("wording", {"ja": [], "en": []}, "日本語、英語"),
    ("rows", 12345, "12,345"),
    ("sha256", "ab" * 32, "abababababababab…"),
    ("filter", {"status": "paid", "name": "(given)", "programme": "1"},
     "状況: 振込済、名前: （入力あり）、事業: 特別定額給付金"),
    ("note", "", "—"),
])
def test_each_kind_of_value_reads_as_people_write_it(key, value, shown):
    assert labels.value_text(key, value, _words()) == shown


def test_a_change_names_only_what_changed_by_its_label():
    before = {"display_name": "山田", "role": "staff", "is_active": True}
    after = {"display_name": "山田", "role": "supervisor", "is_active": True}
    assert labels.changes_text(before, after, _words()) == "役割: 担当職員 → 監督者"
    assert labels.changes_text(None, {"code": "x", "retention_years": 5}, _words()) == \
        "事業コード: x、保存年数: 5"


@pytest.mark.parametrize("target, action, shown", [
    # An application by its receipt number; the internal id only when none is known.
    ("application:12", "application.status", "申請（内部番号 12）"),
    ("user:3", "user.update", "ユーザー yamada"),
    ("status:paid", "catalogue.update", "状況「振込済」"),
    ("audit:1-500", "audit.prune", "監査記録 500 番まで"),
    ("applications:40", "application.bulk_status", "申請 40 件"),
    ("applications.xlsx", "export", "申請一覧（Excel）"),
    ("audit.csv", "export", "監査ログ（CSV）"),
    ("schema", "database.upgrade", "データベース"),
    ("sftp://upload@public-1:22/inbox", "transfer.delivery", "sftp://upload@public-1:22/inbox"),
])
def test_targets_by_what_they_name(target, action, shown):
    assert labels.target_text(target, action, _words()) == shown


def test_an_application_is_named_by_its_receipt_number_never_by_its_id_alone():
    words = _words()
    assert labels.target_text("application:12", "application.status", words, "30000005") == \
        "申請（受付番号 30000005）"
    words.receipts = {12: "3000-0005", 13: ""}
    assert labels.target_text("application:12", "disclosure.produce", words) == \
        "申請（受付番号 3000-0005）"
    assert labels.target_text("application:13", "disclosure.produce", words) == \
        "申請（受付番号は廃棄済み・内部番号 13）"
    record = _record("application.view", "application:12", personal="d" * 64)
    assert labels.describe(record, _words(), [{"receipt": "30000005"}]).target == \
        "申請（受付番号 30000005）"


def test_a_status_change_in_words_with_its_values_beside_the_chain():
    record = _record("application.status", "application:7", status_before="reviewing",
                     status_after="paid", personal="d" * 64)
    side = [{"receipt": "12345678", "reason": "窓口で確認",
             "before": {"status": "reviewing", "paid_on": None},
             "after": {"status": "paid", "paid_on": "2020-07-10"}}]
    described = labels.describe(record, _words(), side)
    assert described.action == "状況の変更" and described.role == "担当職員"
    assert described.lines == [("変更前の状況", "審査中"), ("変更後の状況", "振込済"),
                               ("受付番号", "12345678"),
                               ("変更した項目", "振込日: — → 2020年7月10日"),
                               ("理由", "窓口で確認")]
    # Values not loaded (a bulk change) or cut by disposal are said so, never as a digest.
    assert ("個人情報", "別表に保管（記録の詳細で確認できます）") in \
        labels.describe(record, _words()).lines
    assert ("個人情報", "（廃棄済み）") in labels.describe(record, _words(), []).lines


def test_a_failed_transfer_gives_its_reason_in_words():
    record = _record("transfer.delivery", "outbox:/srv/out", role="transfer", result="failed",
                     reason="PermissionError: Permission denied", attempts=1)
    described = labels.describe(record, _words())
    assert ("理由", "受け渡し用のフォルダーに書き込む権限がありませんでした。") in described.lines
    assert described.role == "転送ジョブ"
    assert not any("PermissionError" in value for _, value in described.lines)


def test_every_label_and_failure_has_its_english():
    from babel.messages.pofile import read_po

    from intranet.publications import failures

    with (ROOT / "intranet/locale/en/LC_MESSAGES/shinsei.po").open("rb") as po:
        english = {m.id: m.string for m in read_po(po) if m.id}
    ids = {*labels.ACTIONS.values(), *labels.ACTION_GROUPS.values(), *labels.DETAILS.values(),
           *labels.TARGETS.values(), *labels.EXPORTS.values(), *labels.LANGUAGES.values(),
           *labels.NEEDS, labels.UNKNOWN_ACTION,
           *(v for codes in labels.CODES.values() for v in codes.values()),
           *(text for _, f in failures.RULES for text in (f.what, f.todo)),
           failures.UNKNOWN.what, failures.UNKNOWN.todo} - {""}
    assert sorted(i for i in ids if not english.get(i)) == []


def test_a_plain_label_is_translated_once_per_page_with_the_same_words():
    calls = []

    def translate(message, **mapping):
        calls.append((message, mapping))
        return f"<{message}:{sorted(mapping.items())}>"

    remembered = labels.remembered(translate)
    assert remembered("理由") == remembered("理由") == translate("理由")
    assert remembered("申請 ${n} 件", n=3) == translate("申請 ${n} 件", n=3)
    assert remembered("申請 ${n} 件", n=4) == translate("申請 ${n} 件", n=4)
    calls.clear()
    remembered("理由")
    remembered("申請 ${n} 件", n=5)
    assert calls == [("申請 ${n} 件", {"n": 5})]     # the plain label came from memory
