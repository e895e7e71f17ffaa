"""the shipped やさしい日本語 status wording with furigana over every kanji

Installations seeded before this revision hold the default wording without furigana. Each
status whose やさしい日本語 wording is still exactly the shipped text gets the new text; a
wording a supervisor has changed is left as it is. The next publication carries it.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# code: ((label, explanation, next step) as shipped before, the same with furigana)
_WORDING = {
    "received": (("うけつけました", "あなたの 申請書を うけとりました。これから 中身を 見ます。", "なにも しなくて いいです。まって ください。"),
        ("うけつけました", "あなたの {申請書|しんせいしょ}を うけとりました。これから {中身|なかみ}を {見|み}ます。", "なにも しなくて いいです。まって ください。")),
    "reviewing": (("しらべて います", "あなたの 申請を しらべて います。", "なにも しなくて いいです。まって ください。"),
        ("しらべて います", "あなたの {申請|しんせい}を しらべて います。", "なにも しなくて いいです。まって ください。")),
    "inquiring": (("たしかめて います", "ほかの 役所に たしかめて います。", "なにも しなくて いいです。すこし 時間が かかります。"),
        ("たしかめて います", "ほかの {役所|やくしょ}に たしかめて います。", "なにも しなくて いいです。すこし {時間|じかん}が かかります。")),
    "deficient": (("書類が たりません", "書類に たりない ところが ありました。書類を 送りました。", "とどいた 書類を 見て、たりない ものを いれて 送って ください。"),
        ("{書類|しょるい}が たりません", "{書類|しょるい}に たりない ところが ありました。{書類|しょるい}を {送|おく}りました。", "とどいた {書類|しょるい}を {見|み}て、たりない ものを いれて {送|おく}って ください。")),
    "awaiting_resubmission": (("書類を まって います", "書類を もう一度 送って もらうのを まって います。", "書類を 書いて、送って ください。"),
        ("{書類|しょるい}を まって います", "{書類|しょるい}を もう {一度|いちど} {送|おく}って もらうのを まって います。", "{書類|しょるい}を {書|か}いて、{送|おく}って ください。")),
    "approved": (("お金を はらう ことに きまりました", "しらべた けっか、お金を はらう ことに きまりました。", "ふりこむ 日が きまるまで まって ください。"),
        ("お{金|かね}を はらう ことに きまりました", "しらべた けっか、お{金|かね}を はらう ことに きまりました。", "ふりこむ {日|ひ}が きまるまで まって ください。")),
    "payment_scheduled": (("ふりこむ 日が きまりました", "あなたの 口座に お金を ふりこむ 日が きまりました。", "その 日の あとに 口座を 見て ください。"),
        ("ふりこむ {日|ひ}が きまりました", "あなたの {口座|こうざ}に お{金|かね}を ふりこむ {日|ひ}が きまりました。", "その {日|ひ}の あとに {口座|こうざ}を {見|み}て ください。")),
    "paid": (("ふりこみました", "あなたの 口座に お金を ふりこみました。", "口座を 見て ください。これで おわりです。"),
        ("ふりこみました", "あなたの {口座|こうざ}に お{金|かね}を ふりこみました。", "{口座|こうざ}を {見|み}て ください。これで おわりです。")),
    "payment_failed": (("ふりこめませんでした", "口座の じょうほうが ちがう などで、お金を ふりこめませんでした。", "市から れんらくします。電話で きいて ください。"),
        ("ふりこめませんでした", "{口座|こうざ}の じょうほうが ちがう などで、お{金|かね}を ふりこめませんでした。", "{市|し}から れんらくします。{電話|でんわ}で きいて ください。")),
    "withdrawn": (("申請を やめました", "申請を やめる ことを うけつけました。", "なにも しなくて いいです。"),
        ("{申請|しんせい}を やめました", "{申請|しんせい}を やめる ことを うけつけました。", "なにも しなくて いいです。")),
    "duplicate": (("申請が 2つ あります", "おなじ 家族から 申請が 2つ ありました。この 申請は つかいません。", "もう ひとつの 申請の 番号で しらべて ください。"),
        ("{申請|しんせい}が 2つ あります", "おなじ {家族|かぞく}から {申請|しんせい}が 2つ ありました。この {申請|しんせい}は つかいません。", "もう ひとつの {申請|しんせい}の {番号|ばんごう}で しらべて ください。")),
    "rejected": (("お金は はらえません", "しらべた けっか、お金を はらう 人では ありませんでした。", "送る 手紙を 読んで ください。わからない ときは 電話で きいて ください。"),
        ("お{金|かね}は はらえません", "しらべた けっか、お{金|かね}を はらう {人|ひと}では ありませんでした。", "{送|おく}る {手紙|てがみ}を {読|よ}んで ください。わからない ときは {電話|でんわ}で きいて ください。")),
}

_WORDINGS = sa.table("status_wordings", sa.column("status_code"), sa.column("lang"),
                     sa.column("resident_label"), sa.column("explanation"),
                     sa.column("next_step"))


def _replace(before: int, after: int) -> None:
    for code, texts in _WORDING.items():
        old, new = texts[before], texts[after]
        op.execute(_WORDINGS.update().where(
            _WORDINGS.c.status_code == code, _WORDINGS.c.lang == "ja-easy",
            _WORDINGS.c.resident_label == old[0], _WORDINGS.c.explanation == old[1],
            _WORDINGS.c.next_step == old[2]).values(
            resident_label=new[0], explanation=new[1], next_step=new[2]))


def upgrade():
    _replace(0, 1)


def downgrade():
    _replace(1, 0)
