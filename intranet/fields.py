"""An application's fields as municipal staff name them: the import's column definitions.

Each field's first name is its word everywhere — the import's dry run, the list and history
exports (whose header must stay one the import reads back), the application's story, the
disclosure, the disposal record and the audit trail's details — and the message id the
English catalogue translates. It stands on the intranet's floor so that those screens, the
template globals in ``intranet.web`` among them, derive their labels from it rather than
keep a copy.
"""

# field → the names people give its column; the first is the field's word (FIELD_WORDS).
FIELDS = {
    "receipt_number": ("受付番号", "申請番号", "受付No", "受付No.", "受付ナンバー", "申請No",
                       "整理番号", "receipt_number", "receipt number", "receipt no"),
    "name": ("氏名", "申請者氏名", "申請者名", "申請者", "世帯主氏名", "世帯主名", "氏名漢字",
             "name", "applicant"),
    "kana": ("フリガナ", "ふりがな", "カナ氏名", "氏名カナ", "カナ", "申請者カナ", "氏名フリガナ",
             "世帯主カナ", "kana"),
    "birth_date": ("生年月日", "誕生日", "birth_date", "date of birth"),
    "address": ("住所", "申請者住所", "世帯主住所", "address"),
    "phone": ("電話番号", "連絡先電話番号", "連絡先", "電話", "tel", "phone"),
    "received_on": ("申請日", "受付日", "受付年月日", "申請年月日", "received_on", "received"),
    "route": ("申請方法", "申請区分", "受付方法", "route"),
    "status": ("状況", "処理状況", "状態", "ステータス", "進捗状況", "進捗", "status"),
    "scheduled_payment_on": ("振込予定日", "支払予定日", "支給予定日", "scheduled_payment_on"),
    "paid_on": ("振込日", "支払日", "支給日", "振込実施日", "paid_on"),
    "deficiency_reason": ("不備内容", "不備理由", "不備事由", "deficiency_reason"),
    # The action details residents read: kinds by name or code (intranet.deficiencies).
    "deficiency_kinds": ("不備の種類", "不備種類", "不備の種別", "不備種別", "不備区分", "不備項目",
                         "deficiency_kinds", "deficiency kinds"),
    "documents_sent_on": ("書類送付日", "書類発送日", "不備書類送付日", "返送書類送付日",
                          "不備通知日", "documents_sent_on"),
    "return_by": ("返送期限", "返送期限日", "再提出期限", "提出期限", "return_by"),
    "notes": ("備考", "メモ", "notes"),
}
FIELD_WORDS = {field: names[0] for field, names in FIELDS.items()}


def words(*fields: str) -> list[str]:
    """The words of ``fields``, in the order given (an export header, a record's lines)."""
    return [FIELD_WORDS[field] for field in fields]


# The route field's values as staff read them: the import's dry run and its changes file,
# the exports, and the screens (intranet.web's template globals, through _()).
ROUTE_WORDS = {"online": "オンライン", "postal": "郵送", "push": "プッシュ型（確認書）"}
