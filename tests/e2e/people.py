"""Staff and residents in headless Chromium on their own terminals, over HTTPS through nginx.

Selectors are the labels a person reads on the screen, so a screen that changes its wording
changes this file, as it would change the guide.
"""

import json
from contextlib import contextmanager

from tests.e2e.browser import chromium

PASSWORD = "Kyufukin-2026-shinsei!"
# The confirmation each irreversible programme step asks for (intranet lifecycle.jinja2).
CONFIRM_STEP = {"照会を終了する": "はい、照会を終了します", "アーカイブする": "はい、アーカイブします"}
# What a resident reads for "reviewing", and the "as of" sentence, in each language offered.
READS = {
    "ja": ("審査中です", "時点のものです"),
    "en": ("Under review", "This information is as of"),
    "ja-easy": ("しらべて います", "の ものです"),
}


class StaffDesk:
    """The intranet's screens, as staff use them from their terminal."""

    def __init__(self, browser, base_url):
        self.browser, self.base_url = browser, base_url
        self.page = None

    def sign_in(self, username, password=PASSWORD):
        self._try_sign_in(username, password)
        assert "/login" not in self.page.url, f"{username} could not sign in: {self.text()[:500]}"
        return self.page

    def _try_sign_in(self, username, password):
        if self.page is not None:
            self.page.context.close()
        context = self.browser.new_context(base_url=self.base_url, locale="ja-JP")
        self.page = context.new_page()
        self.page.goto("/login")
        self.page.get_by_label("ユーザー名").fill(username)
        self.page.get_by_label("パスワード").fill(password)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="ログイン").click()

    def sign_in_refused(self, username, password):
        """A sign-in the app must refuse: the login page again, saying why."""
        self._try_sign_in(username, password)
        assert "/login" in self.page.url, f"{username} signed in with {password!r}"
        return self.page.get_by_role("alert").first.inner_text()

    def first_sign_in(self, username, one_time, password=PASSWORD):
        """With the one-time password the administrator handed over: the app allows nothing
        but choosing one's own password."""
        page = self.sign_in(username, one_time)
        assert page.url.endswith("/password"), f"{username}: not asked to change: {page.url}"
        page.goto("/publications")
        assert page.url.endswith("/password"), f"{username} used the app unchanged: {page.url}"
        page.get_by_label("現在のパスワード").fill(one_time)
        page.get_by_label("新しいパスワード", exact=True).fill(password)
        page.get_by_label("新しいパスワード（確認）").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="変更する").click()
        assert not page.url.endswith("/password"), f"{username}: {self.text()[:500]}"

    def add_account(self, username, name, role):
        """The administrator asks for an account; returns the first half of its one-time
        password, shown once to the one who asked."""
        page = self.page
        page.goto("/users/new")
        page.get_by_label("ユーザー名").fill(username)
        page.get_by_label("表示名").fill(name)
        page.get_by_label("役割").select_option(role)
        with page.expect_navigation():
            page.get_by_role("button", name="保存する").click()
        one_time = page.locator("#one-time-password")
        assert one_time.count(), f"{username}: {self.text()[:800]}"
        return one_time.inner_text().strip()

    def approve_role_grants(self):
        """Before accounts took two people (the older bundle an upgrade starts from): approve
        every pending supervisor grant; returns (how many, the refusal shown, if any)."""
        page, approved = self.page, 0
        page.goto("/users/grants")
        while page.get_by_role("button", name="承認する").count():
            with page.expect_navigation():
                page.get_by_role("button", name="承認する").first.click()
            alert = page.get_by_role("alert")
            if alert.count():
                return approved, alert.first.inner_text()
            approved += 1
            page.goto("/users/grants")
        return approved, ""

    def approve_requests(self):
        """Approve every request waiting on アカウントの承認; returns ({account: the second
        half its approval showed, if any}, the refusal the screen showed, if any)."""
        page, halves = self.page, {}
        page.goto("/users/grants")
        while page.get_by_role("button", name="承認する").count():
            row = page.locator("table.list tbody tr").first
            account = row.locator("td").first.inner_text().strip()
            with page.expect_navigation():
                row.get_by_role("button", name="承認する").click()
            alert = page.get_by_role("alert")
            if alert.count():
                return halves, alert.first.inner_text()
            one_time = page.locator("#one-time-password")
            if one_time.count():
                halves[account] = one_time.inner_text().strip()
            page.goto("/users/grants")
        return halves, ""

    def text(self):
        return self.page.locator("body").inner_text()

    def add_programme(self, code, name, name_en):
        page = self.page
        page.goto("/programmes/new")
        page.locator("#code").fill(code)
        page.locator("#name").fill(name)
        page.locator("#name_en").fill(name_en)
        with page.expect_navigation():
            page.get_by_role("button", name="保存する").click()
        assert name in self.text(), self.text()[:800]

    def import_csv(self, programme_name, path):
        page = self.page
        page.goto("/imports")
        page.get_by_label("事業").select_option(label=programme_name)
        page.get_by_label("CSV・Excel ファイル").set_input_files(str(path))
        with page.expect_navigation():
            page.get_by_role("button", name="内容を確認する").click()
        with page.expect_navigation():
            page.get_by_role("button", name="この内容で取り込む").click()
        assert "を取り込みました" in self.text(), self.text()[:800]

    def open_application(self, receipt):
        """The application's page, found by its number on the list."""
        page = self.page
        page.goto("/applications")
        page.get_by_label("受付番号").fill(receipt)
        with page.expect_navigation():
            page.get_by_role("button", name="検索").click()
        with page.expect_navigation():
            page.get_by_role("link", name=receipt).click()
        return page

    def confirm_change(self, receipt):
        """Ask for the change filled in, and confirm it on the page that shows it first."""
        page = self.page
        with page.expect_navigation():
            page.get_by_role("button", name="変更内容を確認する").click()
        page.locator("#confirm-change").wait_for()   # before → after, shown first
        with page.expect_navigation():
            page.get_by_role("button", name="変更する").click()
        assert f"受付番号 {receipt} の状況を" in self.text(), self.text()[:800]

    def change_status(self, receipt, status, note):
        page = self.open_application(receipt)
        # The status form's own reason (an application 不備あり also shows the details' form,
        # with a reason of its own).
        form = page.get_by_role("region", name="状況を変更")
        form.get_by_label("新しい状況").select_option(status)
        form.get_by_label("変更理由・メモ").fill(note)
        self.confirm_change(receipt)

    def set_return_details(self, programme_name, return_to, enclose):
        """A supervisor's 事業 → 不備の種類と返送先: where residents send papers and what they
        enclose, each {lang: text} for ja, en and ja-easy."""
        page = self.page
        page.goto("/programmes")
        row = page.locator("table.list tbody tr", has_text=programme_name)
        with page.expect_navigation():
            row.get_by_role("link", name="不備の種類と返送先").click()
        suffix = {"ja": "", "en": "_en", "ja-easy": "_easy"}
        for name, texts in (("return_to", return_to), ("enclose", enclose)):
            for lang, text in texts.items():
                page.locator(f"#{name}{suffix[lang]}").fill(text)
        with page.expect_navigation():
            page.get_by_role("button", name="保存する").click()
        assert "返送先と同封するものを保存しました" in self.text(), self.text()[:800]

    def mark_deficient(self, receipt, kinds, sent, return_by, note):
        """不備あり with the kinds (their names, as the check boxes read), the day the letter
        was sent and the deadline (date objects), and staff's own note."""
        page = self.open_application(receipt)
        page.get_by_label("新しい状況").select_option("deficient")
        for kind in kinds:
            page.get_by_label(kind).check()
        page.locator("#status-documents_sent_on").fill(sent.isoformat())
        page.locator("#status-return_by").fill(return_by.isoformat())
        page.get_by_label("不備内容（職員用メモ").fill(note)
        self.confirm_change(receipt)

    def open_programme(self, code):
        page = self.page
        page.goto("/programmes")
        with page.expect_navigation():
            page.get_by_role("link", name=code, exact=True).click()
        return page

    def programme_step(self, code, button, done):
        """事業 → 保存と廃棄: 照会を終了する or アーカイブする; the stage the page then shows."""
        page = self.open_programme(code)
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()
        # Neither step can be undone: the page first says what will happen, to how many.
        assert "よろしいですか" in self.text() and "件の申請は" in self.text(), self.text()[:800]
        with page.expect_navigation():
            page.get_by_role("button", name=CONFIRM_STEP[button]).click()
        assert f"現在の段階: {done}" in self.text(), self.text()[:800]

    def request_early_disposal(self, code, reason):
        """廃棄を申請する before the retention ends (with its reason); the record's number."""
        page = self.open_programme(code)
        page.get_by_label("保存期間の満了前に廃棄する").check()
        page.get_by_label("理由（期間前の廃棄では必須）").fill(reason)
        with page.expect_navigation():
            page.get_by_role("button", name="廃棄を申請する").click()
        assert "廃棄を申請しました" in self.text(), self.text()[:800]
        return page.url.rstrip("/").rsplit("/", 1)[1]

    def approve_disposal(self, number):
        """廃棄記録 → the request → 承認して廃棄する."""
        page = self.page
        page.goto("/disposals")
        with page.expect_navigation():
            page.get_by_role("link", name=number, exact=True).click()
        with page.expect_navigation():
            page.get_by_role("button", name="承認して廃棄する").click()
        assert "元に戻せません" in self.text(), self.text()[:800]     # what is erased, how many
        with page.expect_navigation():
            page.get_by_role("button", name="はい、廃棄を実行します").click()
        assert "廃棄を実行しました" in self.text(), self.text()[:800]

    def save_disposal_record(self, folder):
        """「廃棄記録をファイルで保存する（JSON）」 on the record's page: the file, as saved."""
        page = self.page
        with page.expect_download() as download:
            page.get_by_role("link", name="廃棄記録をファイルで保存する（JSON）").click()
        saved = folder / download.value.suggested_filename
        download.value.save_as(saved)
        return saved

    def request_publication(self, note):
        """The request's number, read from its own 承認待ち section (the one whose メモ is
        `note`, newest first): a restored backup set can bring back older requests still
        waiting, so "the first pending one" need not be this one. None on an older version's
        screen, which has no such sections."""
        page = self.page
        page.goto("/publications")
        page.get_by_label("依頼のメモ").fill(note)
        with page.expect_navigation():
            page.get_by_role("button", name="公開を依頼する").click()
        if page.locator("section.pending").count() == 0:
            # An older version's screen (the upgrade test's first bundle) lists waiting
            # requests in the history table: no number to read; approve the first waiting.
            assert "公開を依頼しました" in self.text(), f"no request made: {self.text()[:800]}"
            return None
        mine = page.locator("section.pending", has=page.locator(".meta", has_text=f"メモ: {note}"))
        assert mine.count(), f"no request waiting with the note {note!r}: {self.text()[:800]}"
        heading = mine.first.locator("h2").get_attribute("id") or ""
        return int(heading.removeprefix("pending-").removesuffix("-heading"))

    def approve_publication(self, number=None):
        """Request No.`number` approved (without one: the newest waiting, as a person who
        knows only one is waiting would click the first 承認)."""
        page = self.page
        page.goto("/publications")
        button = (page.get_by_role("button", name="承認").first if number is None else
                  page.get_by_role("button", name=f"公開依頼 No.{number} を承認", exact=True))
        with page.expect_navigation():
            button.click()
        if number is not None:
            assert page.locator(f"#pending-{number}-heading").count() == 0, \
                f"request No.{number} is still waiting: {self.text()[:800]}"

    def publications(self):
        """The history table's rows (公開の履歴), newest first, as the screen shows them: not
        the changed applications a waiting request lists above it."""
        self.page.goto("/publications")
        history = self.page.locator("table.list", has=self.page.locator(
            "caption", has_text="公開の履歴"))
        rows = history.locator("tbody > tr")
        return [rows.nth(i).inner_text() for i in range(rows.count())]

    def publication(self, number):
        """The history row of publication No.`number` (its 番号 cell), as the screen shows it."""
        rows = [row for row in self.publications() if row.split(None, 1)[:1] == [str(number)]]
        assert len(rows) == 1, f"publication No.{number} in the history: {rows}"
        return rows[0]


@contextmanager
def answer_page(browser, base_url, programme, receipt, lang):
    """A resident opens the page in `lang`, picks the programme (when the page offers more
    than one) and types the number: the answer page, while the resident has it open."""
    context = browser.new_context(base_url=base_url, locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(f"/?lang={lang}")
        choice = page.locator(f"input[type=radio][name=programme][value='{programme}']")
        if choice.count():
            choice.check()
        page.locator("#receipt_number").fill(receipt)
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
        yield page
    finally:
        context.close()


def resident_reads(browser, base_url, programme, receipt, lang):
    """The answer's status, its "as of" line and the whole main text."""
    with answer_page(browser, base_url, programme, receipt, lang) as page:
        status = page.locator(".status").inner_text() if page.locator(".status").count() else ""
        as_of = page.locator(".as-of").inner_text() if page.locator(".as-of").count() else ""
        return status, as_of, page.locator("main").inner_text()


def resident_action(browser, base_url, programme, receipt, lang):
    """What the answer says the resident has to do: the missing items (as HTML, furigana
    included), the details' values in order, and the whole main text."""
    with answer_page(browser, base_url, programme, receipt, lang) as page:
        items = page.locator(".action-details ul.missing li")
        facts = page.locator(".action-details dl.action-facts dd")
        return ([items.nth(i).inner_html() for i in range(items.count())],
                [facts.nth(i).inner_text() for i in range(facts.count())],
                page.locator("main").inner_text())


def healthz(terminal, name, address, ca):
    """/healthz as the city's monitoring reads it (JSON), from a terminal of the lab, asking
    the host at `address` by its name; {"unreachable": why} when nothing answers."""
    result = terminal.run("curl", "-sS", "--max-time", "10", "--cacert", str(ca), "--resolve",
                          f"{name}:443:{address}", "-w", "\n%{http_code}",
                          f"https://{name}/healthz", check=False)
    if result.returncode != 0:
        return {"unreachable": result.stderr.strip()}
    body, _, status = result.stdout.rpartition("\n")
    try:
        # The app's own answer, also when it says 503 (expired, maintenance, broken).
        return json.loads(body)
    except ValueError:
        if status in ("502", "503", "504"):
            # nginx is up and the app behind it not yet (a host still booting): its own page.
            return {"unreachable": f"HTTP {status} from nginx: the app is not answering yet"}
        raise AssertionError(f"{name} ({address}) /healthz is not JSON: {body[:500]}") from None


__all__ = ["PASSWORD", "READS", "StaffDesk", "chromium", "healthz", "resident_action",
           "resident_reads"]
