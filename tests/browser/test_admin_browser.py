"""The pharmacists' admin in a real browser: one screen to edit and submit, a review
page with a preview of the public page, few page loads, nothing lost, and admin pages that fit
1280 px, pass axe-core and break no Content-Security-Policy rule."""

import re

import pytest

from tests.factories import make_user

from .conftest import describe

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

NEW_SENTENCE = "Store below 25 degrees in the original blister."
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


class PageLoads:
    """Counts the top-level navigations of the pages given: a form POST answered by a redirect
    commits one document, so it counts once."""

    def __init__(self, *pages):
        self.count = 0
        for page in pages:
            self.watch(page)

    def watch(self, page):
        page.on("framenavigated", lambda frame: self._loaded(page, frame))
        return page

    def _loaded(self, page, frame):
        if frame == page.main_frame:
            self.count += 1


def strength_field(page, registration_number, field):
    """The input of `field` in the strength row holding this registration number."""
    name = page.locator(f"input[name$='-registration_number'][value='{registration_number}']").get_attribute("name")
    return page.locator(f"[name='{name.removesuffix('registration_number')}{field}']")


def test_edit_and_submit_in_three_page_loads_then_review_preview_and_approve_in_four(
    page, browser, base_url, people, admin_login
):
    editor, reviewer = people

    # The editor: entry list → entry → "Save and submit".
    admin_login(page, editor)
    loads = PageLoads(page)
    page.goto("/admin/monographs/entry/")
    page.get_by_role("link", name="Lenalidomide").click()
    page.locator(".panels-open-all").click()  # every part is a folded panel
    storage = page.locator("textarea[name$='-body']").filter(has_text="structural integrity of the capsules")
    storage.fill(NEW_SENTENCE)
    strength_field(page, "HK-90101", "pack_size").fill("7 capsules")
    page.get_by_role("textbox", name="Reason for change").fill("New pack and storage advice")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted for review")
    assert loads.count <= 3, loads.count
    editor_loads = loads.count

    # The reviewer: admin home → review page → preview (a new tab) → approve.
    reviewer_context = browser.new_context(base_url=base_url)
    review = admin_login(reviewer_context.new_page(), reviewer)
    loads = PageLoads(review)
    review.goto("/admin/")
    review.get_by_role("link", name="Review Lenalidomide").click()
    expect(review).to_have_url(re.compile(r"/review/$"))
    content = review.locator("#content")
    expect(content.locator("details[open] ins", has_text="blister")).to_be_visible()
    pack_row = content.locator("tr", has_text="Pack size")
    expect(pack_row.locator(".diff-before")).to_have_text("21 capsules")
    expect(pack_row.locator(".diff-after")).to_have_text("7 capsules")

    with reviewer_context.expect_page() as opened:
        review.get_by_role("link", name="English").click()
    preview = opened.value
    loads.count += 1  # the preview opens in a new tab: one page load, and the only one there
    preview.wait_for_load_state()
    # The products block: one row per registered strength, with its pack.
    expect(preview.locator("#products tr", has_text="HK-90101")).to_contain_text("7 capsules")
    expect(preview.locator("main")).to_contain_text(NEW_SENTENCE)
    preview.close()

    review.get_by_label("Review comment").fill("Matches the product information")
    review.get_by_role("button", name="Approve and publish").click()
    expect(review.locator(".messagelist")).to_contain_text("Approved and published")
    assert loads.count <= 4, loads.count
    print(f"page loads: editor {editor_loads}, reviewer {loads.count}")

    public = browser.new_page(base_url=base_url)
    public.goto("/en/entries/lenalidomide/")
    expect(public.locator("main")).to_contain_text(NEW_SENTENCE)
    expect(public.locator("#products tr", has_text="HK-90101")).to_contain_text("7 capsules")


def test_editing_a_field_and_pressing_submit_never_loses_the_edit(page, live_server, admin_login):
    from monographs import working_copy
    from monographs.demo import load_lenalidomide
    from monographs.models import Entry, State
    from monographs.snapshots import snapshot_of_revision

    editor = make_user("editor", "Editors")
    entry = load_lenalidomide()  # a draft: the separate submit form is offered
    admin_login(page, editor)
    page.goto(f"/admin/monographs/entry/{entry.pk}/change/")
    page.locator(".panels-open-all").click()  # every part is a folded panel
    atc = page.get_by_role("textbox", name="ATC code")
    atc.fill("L04AX99")

    # The separate form submits the saved version: with an unsaved edit it refuses and says why.
    page.get_by_role("button", name="Submit the saved version for review").click()
    expect(page.locator(".unsaved-warning")).to_be_visible()
    expect(page.locator(".unsaved-warning")).to_contain_text("unsaved changes")
    expect(atc).to_have_value("L04AX99")
    assert working_copy.state_of(entry.pk).state == State.DRAFT

    # "Save and submit" keeps the edit and submits exactly it.
    page.get_by_role("textbox", name="Reason for change").fill("ATC code corrected")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted for review")
    state = working_copy.state_of(entry.pk)
    assert state.state == State.IN_REVIEW
    assert snapshot_of_revision(state.submitted_revision, entry.pk)["atc_code"] == "L04AX99"
    assert Entry.objects.get(pk=entry.pk).atc_code == "L04AX99"


def test_a_refused_save_scrolls_to_the_first_invalid_field_and_names_it(page, people, admin_login):
    editor, _reviewer = people
    admin_login(page, editor)
    page.goto("/admin/monographs/entry/")
    page.get_by_role("link", name="Lenalidomide").click()
    page.locator(".panels-open-all").click()  # every part is a folded panel
    page.get_by_role("textbox", name="ATC code").fill("L04AX99")
    page.get_by_role("button", name="Save and submit for review").click()

    expect(page.locator(".first-error")).to_contain_text("First problem: Reason for change")
    reason = page.get_by_role("textbox", name="Reason for change")
    expect(reason).to_be_focused()
    expect(reason).to_be_in_viewport()


def admin_pages(people):
    """(user, address) of the admin pages editors and reviewers use, with an entry awaiting review."""
    from monographs import workflow, working_copy
    from monographs.models import Entry, Product
    from monographs.services import entry_update

    editor, reviewer = people
    entry = Entry.objects.get(generic_name="Lenalidomide")
    entry_update(entry=entry, user=editor, reason="Class wording", drug_class="Immunomodulatory imide")
    workflow.submit(entry=entry, user=editor)
    old, new = sorted(working_copy.revision_ids(entry))[-2:]
    product = Product.objects.filter(entry=entry).first()
    return [
        (editor, "/admin/monographs/entry/"),
        (editor, f"/admin/monographs/entry/{entry.pk}/change/"),
        (editor, f"/admin/monographs/product/{product.pk}/change/"),
        (editor, "/admin/monographs/auditevent/"),
        (editor, f"/admin/monographs/entry/{entry.pk}/history/"),
        (reviewer, "/admin/"),
        (reviewer, f"/admin/monographs/entry/{entry.pk}/review/"),
        (reviewer, f"/admin/monographs/entry/{entry.pk}/compare/?old={old}&new={new}"),
    ]


def test_admin_pages_fit_1280_pass_axe_and_break_no_csp_rule(browser, base_url, people, admin_login, axe_violations):
    problems = []
    pages, consoles = {}, {}
    for user, address in admin_pages(people):
        if user not in pages:
            context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
            context.add_init_script(CSP_LISTENER)
            pages[user] = admin_login(context.new_page(), user)
            consoles[user] = []
            pages[user].on("console", lambda message, console=consoles[user]: console.append(message.text))
        page, console = pages[user], consoles[user]
        console.clear()
        page.goto(address)
        page.wait_for_load_state("networkidle")
        # Read before axe-core runs: it injects styles of its own.
        violations = page.evaluate("window.__cspViolations") + [
            text for text in console if "Content Security Policy" in text
        ]
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 1280:
            problems.append(f"{address}: {width} px wide at 1280")
        if violations:
            problems.append(f"{address}: CSP {violations}")
        found = axe_violations(page)
        if found:
            problems.append(f"{address}: axe {describe(found)}")
    assert not problems, "\n".join(problems)


def test_entry_and_product_forms_are_usable_at_1024(browser, base_url, people, admin_login):
    editor, _reviewer = people
    from monographs.models import Product

    context = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 768})
    page = admin_login(context.new_page(), editor)
    product = Product.objects.first()
    for address in [
        "/admin/monographs/entry/",
        f"/admin/monographs/entry/{product.entry_id}/change/",
        f"/admin/monographs/product/{product.pk}/change/",
    ]:
        page.goto(address)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024, address
