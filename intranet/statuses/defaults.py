"""The default status catalogue, drawn from how 給付金 applications are actually processed.

Supervisors change wording and flow in the UI; this is only what a new installation starts
with. Resident wording exists in 日本語, English and やさしい日本語 ("ja-easy"), the last with
furigana over every kanji in the markup staff use in the editor (``{漢字|かんじ}``, transfer.ruby).
"""

from intranet.statuses.models import Status, StatusTransition, StatusWording

# code, staff label (ja), staff label (en), final?, needs: scheduled date, paid date, reason
_STATUSES = [
    ("received", "受付済", "Received", False, False, False, False),
    ("reviewing", "審査中", "Under review", False, False, False, False),
    ("inquiring", "照会中", "Inquiry in progress", False, False, False, False),
    ("deficient", "不備あり（書類返送）", "Deficient (returned)", False, False, False, True),
    ("awaiting_resubmission", "再提出待ち", "Awaiting resubmission", False, False, False, False),
    ("approved", "支給決定", "Payment decided", False, False, False, False),
    ("payment_scheduled", "振込予定", "Payment scheduled", False, True, False, False),
    ("paid", "振込済", "Paid", True, False, True, False),
    ("payment_failed", "振込不能", "Transfer failed", False, False, False, False),
    ("withdrawn", "辞退・取下げ", "Declined / withdrawn", True, False, False, False),
    ("duplicate", "重複申請", "Duplicate application", True, False, False, False),
    ("rejected", "不支給", "Not eligible", True, False, False, False),
]

_TRANSITIONS = {
    "received": ["reviewing", "inquiring", "deficient", "approved", "withdrawn", "duplicate",
                 "rejected"],
    "reviewing": ["inquiring", "deficient", "approved", "withdrawn", "duplicate", "rejected"],
    "inquiring": ["reviewing", "deficient", "approved", "withdrawn", "rejected"],
    "deficient": ["awaiting_resubmission", "reviewing", "withdrawn", "rejected"],
    "awaiting_resubmission": ["reviewing", "deficient", "withdrawn", "rejected"],
    "approved": ["payment_scheduled", "withdrawn"],
    # A scheduled payment may be moved to another date: the same status again.
    "payment_scheduled": ["payment_scheduled", "paid", "payment_failed"],
    "payment_failed": ["payment_scheduled", "withdrawn", "rejected"],
}

# code -> {lang: (resident label, explanation, next step)}
_WORDING = {
    "received": {
        "ja": ("受け付けました", "申請書を受け付けました。これから内容を確認します。",
               "手続きは必要ありません。審査が終わるまでお待ちください。"),
        "en": ("Received", "We have received your application and will check it.",
               "You do not need to do anything. Please wait for the review."),
        "ja-easy": ("うけつけました",
                    "あなたの {申請書|しんせいしょ}を うけとりました。これから {中身|なかみ}を {見|み}ます。",
                    "なにも しなくて いいです。まって ください。"),
    },
    "reviewing": {
        "ja": ("審査中です", "申請内容を審査しています。",
               "手続きは必要ありません。結果が出るまでお待ちください。"),
        "en": ("Under review", "Your application is being reviewed.",
               "You do not need to do anything. Please wait for the result."),
        "ja-easy": ("しらべて います",
                    "あなたの {申請|しんせい}を しらべて います。",
                    "なにも しなくて いいです。まって ください。"),
    },
    "inquiring": {
        "ja": ("確認中です", "申請内容について、関係機関に確認しています。",
               "手続きは必要ありません。確認に時間がかかる場合があります。"),
        "en": ("Being confirmed", "We are confirming details of your application with other offices.",
               "You do not need to do anything. This can take some time."),
        "ja-easy": ("たしかめて います",
                    "ほかの {役所|やくしょ}に たしかめて います。",
                    "なにも しなくて いいです。すこし {時間|じかん}が かかります。"),
    },
    "deficient": {
        "ja": ("書類に不備があります", "申請書類に不備があったため、書類をお送りしました。",
               "届いた書類を確認し、必要なものを添えて返送してください。"),
        "en": ("Documents incomplete", "Your documents were incomplete, so we have posted them back to you.",
               "Please check the letter, add what is missing and send it back."),
        "ja-easy": ("{書類|しょるい}が たりません",
                    "{書類|しょるい}に たりない ところが ありました。{書類|しょるい}を {送|おく}りました。",
                    "とどいた {書類|しょるい}を {見|み}て、たりない ものを いれて {送|おく}って ください。"),
    },
    "awaiting_resubmission": {
        "ja": ("再提出をお待ちしています", "不備のあった書類の再提出をお待ちしています。",
               "お送りした書類に必要事項を記入し、返送してください。"),
        "en": ("Waiting for your documents", "We are waiting for you to send the corrected documents.",
               "Please fill in the documents we sent and return them."),
        "ja-easy": ("{書類|しょるい}を まって います",
                    "{書類|しょるい}を もう {一度|いちど} {送|おく}って もらうのを まって います。",
                    "{書類|しょるい}を {書|か}いて、{送|おく}って ください。"),
    },
    "approved": {
        "ja": ("支給が決定しました", "審査の結果、給付金の支給が決定しました。",
               "振込日が決まるまでお待ちください。"),
        "en": ("Payment approved", "Your application has been approved for payment.",
               "Please wait until the payment date is set."),
        "ja-easy": ("お{金|かね}を はらう ことに きまりました",
                    "しらべた けっか、お{金|かね}を はらう ことに きまりました。",
                    "ふりこむ {日|ひ}が きまるまで まって ください。"),
    },
    "payment_scheduled": {
        "ja": ("振込予定です", "指定の口座へ振り込む日が決まりました。",
               "振込予定日以降に口座をご確認ください。"),
        "en": ("Payment scheduled", "The date of the transfer to your account has been set.",
               "Please check your account on or after the scheduled date."),
        "ja-easy": ("ふりこむ {日|ひ}が きまりました",
                    "あなたの {口座|こうざ}に お{金|かね}を ふりこむ {日|ひ}が きまりました。",
                    "その {日|ひ}の あとに {口座|こうざ}を {見|み}て ください。"),
    },
    "paid": {
        "ja": ("振込が完了しました", "指定の口座へ振り込みました。",
               "口座をご確認ください。手続きは完了しています。"),
        "en": ("Paid", "The payment has been transferred to your account.",
               "Please check your account. Nothing more is needed."),
        "ja-easy": ("ふりこみました",
                    "あなたの {口座|こうざ}に お{金|かね}を ふりこみました。",
                    "{口座|こうざ}を {見|み}て ください。これで おわりです。"),
    },
    "payment_failed": {
        "ja": ("振込ができませんでした", "口座情報の誤りなどにより、振り込むことができませんでした。",
               "市からご連絡します。お問い合わせ窓口にご相談ください。"),
        "en": ("Transfer failed", "We could not transfer the payment, for example because of wrong account details.",
               "We will contact you. You may also call the helpline."),
        "ja-easy": ("ふりこめませんでした",
                    "{口座|こうざ}の じょうほうが ちがう などで、お{金|かね}を ふりこめませんでした。",
                    "{市|し}から れんらくします。{電話|でんわ}で きいて ください。"),
    },
    "withdrawn": {
        "ja": ("辞退・取下げ済みです", "申請の辞退または取下げを受け付けました。",
               "手続きは必要ありません。"),
        "en": ("Withdrawn", "As you asked, your application has been withdrawn.",
               "You do not need to do anything."),
        "ja-easy": ("{申請|しんせい}を やめました",
                    "{申請|しんせい}を やめる ことを うけつけました。",
                    "なにも しなくて いいです。"),
    },
    "duplicate": {
        "ja": ("重複した申請です", "同じ世帯から別の申請を受け付けているため、この申請は処理しません。",
               "もう一方の申請の受付番号で状況をご確認ください。"),
        "en": ("Duplicate application", "Another application for the same household was received, so this one will not be processed.",
               "Please check the status of the other application's receipt number."),
        "ja-easy": ("{申請|しんせい}が 2つ あります",
                    "おなじ {家族|かぞく}から {申請|しんせい}が 2つ ありました。この {申請|しんせい}は つかいません。",
                    "もう ひとつの {申請|しんせい}の {番号|ばんごう}で しらべて ください。"),
    },
    "rejected": {
        "ja": ("支給の対象外です", "審査の結果、支給の対象とならないことが決まりました。",
               "理由はお送りする通知をご覧ください。ご不明な点は窓口へお問い合わせください。"),
        "en": ("Not eligible", "After review, the application was found not to be eligible.",
               "The letter we send explains why. Please contact the helpline with any questions."),
        "ja-easy": ("お{金|かね}は はらえません",
                    "しらべた けっか、お{金|かね}を はらう {人|ひと}では ありませんでした。",
                    "{送|おく}る {手紙|てがみ}を {読|よ}んで ください。わからない ときは {電話|でんわ}で きいて ください。"),
    },
}

# Other names for each status as files from other systems and banks write them.
_ALIASES = {
    "received": ["受付", "受付完了"],
    "reviewing": ["審査", "確認中"],
    "deficient": ["不備", "不備返送"],
    "approved": ["決定", "支給決定済"],
    "payment_scheduled": ["支払予定", "支給予定"],
    "paid": ["振込完了", "支払済", "支給済"],
    "payment_failed": ["振込エラー", "組戻し"],
    "withdrawn": ["辞退", "取下げ", "取下"],
    "duplicate": ["重複"],
    "rejected": ["却下", "不支給決定"],
}

INITIAL_STATUS = "received"
# The statuses after which the resident has to act; the public page makes them stand out.
_RESIDENT_ACTION = {"deficient", "awaiting_resubmission", "payment_failed"}


def default_catalogue() -> list[Status]:
    """Fresh, unsaved Status objects with their wording and transitions."""
    catalogue = []
    for order, (code, ja, en, final, sched, paid, reason) in enumerate(_STATUSES, start=1):
        status = Status(
            code=code, staff_label=ja, staff_label_en=en, sort_order=order * 10, is_final=final,
            needs_scheduled_payment_date=sched, needs_paid_date=paid,
            needs_deficiency_reason=reason, aliases="\n".join(_ALIASES.get(code, [])),
        )
        status.needs_resident_action = code in _RESIDENT_ACTION
        status.wordings = [
            StatusWording(lang=lang, resident_label=label, explanation=text, next_step=step)
            for lang, (label, text, step) in _WORDING[code].items()
        ]
        status.transitions = [
            StatusTransition(from_code=code, to_code=to) for to in _TRANSITIONS.get(code, [])
        ]
        catalogue.append(status)
    return catalogue
