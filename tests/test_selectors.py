"""monographs.selectors: the public read model. Only live editions, whatever the working copy holds."""

import pytest

from monographs import selectors, workflow

from .factories import edit, make_entry, make_published, one_product, product, publish


@pytest.fixture
def formulary(editor, reviewer):
    """Two live entries, a never-published draft and a withdrawn entry."""
    live = {
        "metformin": make_published(
            "Metformin",
            editor=editor,
            reviewer=reviewer,
            drug_class="Biguanide",
            products=[one_product("Metformin", status="general", legal="p1s3", registration="HK-11111")],
        ),
        "zolpidem": make_published(
            "Zolpidem",
            editor=editor,
            reviewer=reviewer,
            drug_class="Hypnotic",
            synonyms="Stilnox",
            products=[one_product("Zolpidem", status="special", legal="dangerous_drug", registration="HK-22222")],
        ),
    }
    make_entry("Secretamab", user=editor, products=[one_product("Secretamab", registration="HK-33333")])
    withdrawn = make_published(
        "Withdrawnol", editor=editor, reviewer=reviewer, products=[one_product("Withdrawnol", registration="HK-44444")]
    )
    workflow.withdraw(entry=withdrawn, user=reviewer, comment="Safety alert")
    return live


def names(editions):
    return [e.generic_name for e in editions]


def test_only_live_editions_are_read(formulary, editor):
    edit(formulary["metformin"], user=editor, first_section_body="UNREVIEWED DRAFT TEXT")
    assert names(selectors.live_editions_by_name()) == ["Metformin", "Zolpidem"]
    edition = selectors.live_edition_for_slug("metformin")
    assert "UNREVIEWED" not in str(edition.content)
    for slug in ("secretamab", "withdrawnol"):
        with pytest.raises(Exception, match="No published entry"):
            selectors.live_edition_for_slug(slug)


def test_filters_combine_and_read_the_approved_products(formulary):
    assert names(selectors.live_editions_filtered(formulary_status="special")) == ["Zolpidem"]
    assert names(selectors.live_editions_filtered(legal_classification="p1s3", drug_class="biguanide")) == ["Metformin"]
    assert names(selectors.live_editions_filtered(legal_classification="p1s3", formulary_status="special")) == []


def test_containing_is_a_plain_filter_on_names_synonyms_products_class_and_atc(formulary):
    assert names(selectors.live_editions_containing("stilnox")) == ["Zolpidem"]
    assert names(selectors.live_editions_containing("zolpidem product")) == ["Zolpidem"]
    assert names(selectors.live_editions_containing("secretamab")) == []  # a draft stays hidden
    assert names(selectors.live_editions_containing("metfromin")) == []  # no typo tolerance: that is search


def test_key_look_up_by_entry_id_or_slug(formulary):
    metformin = formulary["metformin"]
    assert selectors.live_edition_for_key(entry_id=metformin.pk, slug=str(metformin.pk)).entry == metformin
    assert selectors.live_edition_for_key(entry_id=None, slug="zolpidem").generic_name == "Zolpidem"
    assert selectors.live_edition_for_key(entry_id=None, slug="withdrawnol") is None


def test_strength_look_ups_find_live_strengths_only(formulary):
    ((edition, product_, strength),) = selectors.live_strengths_registered_as("HK-22222")
    assert edition.generic_name == "Zolpidem" and product_["name"] == "Zolpidem product"
    assert selectors.live_strength(strength["id"])[2]["registration_number"] == "HK-22222"
    assert selectors.live_strengths_registered_as("HK-33333") == []  # draft
    assert selectors.live_strengths_registered_as("HK-44444") == []  # withdrawn


@pytest.mark.parametrize("typed", ["HK-22222", "hk22222", "hk 22222", "HK–22222", "22222"])
def test_registration_numbers_are_read_as_typed_from_a_box(formulary, typed):
    ((edition, _product, strength),) = selectors.live_strengths_registered_as(typed)
    assert edition.generic_name == "Zolpidem" and strength["registration_number"] == "HK-22222"


@pytest.mark.parametrize("typed", ["", "HK-2222", "HK-222222", "HX-22222", "22222x", "HK-33333", "33333", "44444"])
def test_other_text_and_numbers_outside_live_editions_find_no_strength(formulary, typed):
    assert selectors.live_strengths_registered_as(typed) == []


def test_formulary_last_changed_moves_on_publication_and_on_withdrawal(formulary, reviewer, editor):
    before = selectors.formulary_last_changed()
    workflow.withdraw(entry=formulary["zolpidem"], user=reviewer, comment="Recall")
    after_withdrawal = selectors.formulary_last_changed()
    assert after_withdrawal > before
    make_published("Amlodipine", editor=editor, reviewer=reviewer, products=[product("Norvasc", kind="brand")])
    assert selectors.formulary_last_changed() > after_withdrawal


def test_initials_and_classes_count_live_entries(formulary):
    assert selectors.live_initials() == {"M", "Z"}
    assert selectors.live_drug_classes() == [("Biguanide", 1), ("Hypnotic", 1)]


def test_edition_history_lists_each_published_edition_with_its_reviewer_and_changes(
    published_lenalidomide, editor, reviewer, reviewer2
):
    reviewer2.first_name, reviewer2.last_name = "Mei Ling", "Chan"
    reviewer2.save()
    entry = edit(published_lenalidomide, user=editor, first_section_body="Second edition wording.")
    publish(entry, editor=editor, reviewer=reviewer2)
    live = selectors.live_edition_for_slug("lenalidomide")

    history = selectors.edition_history(live)

    assert [row.number for row in history] == [2, 1]
    assert [row.approved_by for row in history] == ["Mei Ling Chan", "reviewer"]
    assert history[0].changes.changed == ["Overview"] and not history[0].changes.added
    assert not history[1].changes  # the first publication changes nothing
    assert [row.number for row in selectors.earlier_editions(live)] == [1]
    # Asked about the first edition, the history stops there.
    first = published_lenalidomide.editions.get(number=1)
    assert [row.number for row in selectors.edition_history(first)] == [1]


def test_a_withdrawn_entry_has_no_public_history(published_lenalidomide, editor, reviewer, reviewer2):
    entry = edit(published_lenalidomide, user=editor, first_section_body="Second edition wording.")
    publish(entry, editor=editor, reviewer=reviewer2)
    second = entry.editions.get(number=2)

    workflow.withdraw(entry=entry, user=reviewer, comment="Withdrawn from the formulary")

    assert selectors.edition_history(second) == []
    assert selectors.earlier_editions(second) == []
