"""The 不備の種類 a new programme starts with: the deficiencies 給付金 offices return most
papers for. Supervisors change, add and retire kinds per programme (intranet.deficiencies
views); this is only the starting set. Every kanji of the やさしい日本語 wording has its
furigana (``{漢字|かんじ}``, transfer.ruby).
"""

from intranet.deficiencies.models import DeficiencyKind

# code, staff name, {lang: what the resident reads is missing}
DEFAULT_KINDS = [
    ("id_copy", "本人確認書類の写しがない", {
        "ja": "本人確認書類の写し（運転免許証、マイナンバーカードの表面など）",
        "en": "A copy of an identity document (driving licence, the front of your My Number Card, etc.)",
        "ja-easy": "あなたが だれか わかる {書類|しょるい}の コピー（{運転免許証|うんてんめんきょしょう}、"
                   "マイナンバーカードの {表|おもて} など）"}),
    ("bank_proof", "振込先口座の確認書類がない・不鮮明", {
        "ja": "振込先口座を確認できる書類の写し（通帳やキャッシュカードなど。口座番号と名義が読めるもの）",
        "en": "A copy of a document showing your bank account (passbook or cash card, "
              "with the account number and the holder's name readable)",
        "ja-easy": "お{金|かね}を {振|ふ}り{込|こ}む {口座|こうざ}が わかる {書類|しょるい}の コピー"
                   "（{通帳|つうちょう}や キャッシュカード。{番号|ばんごう}と {名前|なまえ}が "
                   "{読|よ}める もの）"}),
    ("signature", "署名がない", {
        "ja": "申請書への署名（ご本人が自筆でお書きください）",
        "en": "Your signature on the application form (handwritten)",
        "ja-easy": "{申請書|しんせいしょ}の {署名|しょめい}（あなたが {自分|じぶん}で {書|か}いた "
                   "{名前|なまえ}）"}),
    ("blank_fields", "記入漏れ", {
        "ja": "申請書の記入漏れ（お送りした書類の印の箇所にご記入ください）",
        "en": "Parts of the application form left blank (please fill in where marked)",
        "ja-easy": "{申請書|しんせいしょ}の {書|か}いて いない ところ（しるしの ところに "
                   "{書|か}いて ください）"}),
    ("other_documents", "その他の添付書類がない", {
        "ja": "お送りした通知に書かれたその他の書類",
        "en": "The other documents named in the letter we sent you",
        "ja-easy": "{送|おく}った {手紙|てがみ}に {書|か}いて ある ほかの {書類|しょるい}"}),
]


def default_kinds(programme_id: int) -> list[DeficiencyKind]:
    """Fresh, unsaved kinds for one programme, bits 0, 1, 2 … in the order above."""
    kinds = []
    for bit, (code, name, wording) in enumerate(DEFAULT_KINDS):
        kind = DeficiencyKind(programme_id=programme_id, code=code, bit=bit, name=name,
                              sort_order=(bit + 1) * 10, retired=False, wordings=[])
        for lang, text in wording.items():
            kind.set_wording(lang, text)
        kinds.append(kind)
    return kinds
