"""The whole review flow in a real browser: an editor changes a section in the
admin and submits it, a reviewer approves it, and the public page shows the
change only after approval."""

import re

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

NEW_TEXT = "Store below 25 degrees in the original blister; 儲存於攝氏25度以下。"


def edit_storage_and_submit(page, text, reason):
    """In the admin as an editor: change the storage section, save with a reason, submit."""
    page.goto("/admin/monographs/entry/")
    page.get_by_role("link", name="Lenalidomide").click()
    page.locator(".panels-open-all").click()  # every part is a folded panel
    # The storage section: the seed's wording the first time, the previous edit's after that.
    storage = re.compile("structural integrity of the capsules|Store below")
    page.locator("textarea[name$='-body']").filter(has_text=storage).first.fill(text)
    page.get_by_role("textbox", name="Reason for change").fill(reason)
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted for review")


def test_approving_a_review_page_left_open_while_the_editor_resubmitted_is_refused(
    page, browser, base_url, people, admin_login, axe_violations
):
    editor, reviewer = people
    editor_page = browser.new_context(base_url=base_url).new_page()
    admin_login(editor_page, editor)
    edit_storage_and_submit(editor_page, "Store below 25 degrees.", "Version one")

    # The reviewer opens the review page of version one and reads it.
    admin_login(page, reviewer)
    page.goto("/admin/monographs/entry/review-queue/")
    page.get_by_role("link", name="Review").click()
    # The word diff interleaves removed and added words, so look at the added ones.
    expect(page.locator("#content ins").first).to_be_visible()
    expect(page.locator("#content")).to_contain_text("Store")
    expect(page.locator("#content")).not_to_contain_text("10x")

    # Meanwhile the editor changes the text again and resubmits.
    edit_storage_and_submit(editor_page, "Store below 25 degrees. Take 10x the dose.", "Version two")

    # Approve on the page still open: refused, nothing published, a link to what now awaits review.
    page.get_by_label("Review comment").fill("Matches the product information")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator("#content")).to_contain_text("no longer the one awaiting review")
    assert not axe_violations(page)
    public = browser.new_page(base_url=base_url)
    public.goto("/en/entries/lenalidomide/")
    expect(public.locator("main")).not_to_contain_text("10x the dose")

    page.get_by_role("link", name="Review the version now awaiting review").click()
    expect(page.locator("#content")).to_contain_text("10x")


def test_edit_submit_approve_publish(page, browser, base_url, people, admin_login, axe_violations):
    editor, reviewer = people
    public = browser.new_page(base_url=base_url)

    # The editor opens the entry in the admin, changes the storage section and saves with a reason.
    admin_login(page, editor)
    page.goto("/admin/monographs/entry/")
    page.get_by_role("link", name="Lenalidomide").click()
    page.locator(".panels-open-all").click()  # every part is a folded panel
    storage = page.locator("textarea[name$='-body']").filter(has_text="structural integrity of the capsules")
    storage.fill(NEW_TEXT)
    page.get_by_role("textbox", name="Reason for change").fill("Storage temperature from the new product information")
    page.get_by_label("Message to the reviewers").fill("Please check the new storage temperature")
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved and submitted for review")

    # Saved and submitted, but not yet public.
    public.goto("/en/entries/lenalidomide/")
    expect(public.locator("main")).not_to_contain_text("儲存於攝氏25度以下")
    page.context.clear_cookies()  # sign out

    # The reviewer finds it in the queue, sees the word-level changes and approves.
    admin_login(page, reviewer)
    page.goto("/admin/monographs/entry/review-queue/")
    page.get_by_role("link", name="Review").click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    expect(page.locator("ins").first).to_be_visible()
    expect(page.locator("#content")).to_contain_text("Storage and duration")
    public.goto("/en/entries/lenalidomide/")
    expect(public.locator("main")).not_to_contain_text("儲存於攝氏25度以下")

    page.get_by_label("Review comment").fill("Matches the product information")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".messagelist")).to_contain_text("Approved and published")

    # Now the public page shows it.
    public.goto("/en/entries/lenalidomide/")
    expect(public.locator("main")).to_contain_text("儲存於攝氏25度以下")
    assert not axe_violations(public)
