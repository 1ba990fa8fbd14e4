"""Public reads. Everything here sees published (live) editions only, so no
draft, never-published or withdrawn text can reach a public page, search,
feed or API that reads through these functions."""

from django.http import Http404

from .models import Edition


def live_editions():
    return Edition.objects.live()


def live_edition_for_slug(slug):
    """The live edition at this public address, or Http404.

    Its content is loaded only when used: the entry page usually has the
    rendered monograph cached and needs just the edition's id and dates.
    """
    edition = live_editions().filter(slug=slug).order_by().defer("content").first()
    if edition is None:
        raise Http404("No published entry at this address.")
    return edition


# --- Public pages (browse, A–Z, drug classes). All built on live_editions(). ---

OTHER_INITIAL = "#"


def live_editions_by_name():
    """Live editions in A–Z order of generic name (case-insensitive)."""
    from django.db.models.functions import Lower

    # Lists show copied columns (name, brands, class); the snapshot stays unread.
    return live_editions().defer("content").order_by(Lower("generic_name"), "pk")


def live_editions_with_initial(letter):
    """Live editions whose generic name starts with `letter` (A–Z), or with anything else for '#'."""
    editions = live_editions_by_name()
    if letter == OTHER_INITIAL:
        return editions.exclude(generic_name__regex=r"^[A-Za-z]")
    return editions.filter(generic_name__istartswith=letter)


def live_initials():
    """The set of upper-case first letters of live generic names ('#' for a non A–Z start)."""
    from django.db.models.functions import Substr, Upper

    firsts = (
        live_editions()
        .order_by()
        .annotate(initial=Upper(Substr("generic_name", 1, 1)))
        .values_list("initial", flat=True)
    )
    return {c if "A" <= c <= "Z" else OTHER_INITIAL for c in firsts.distinct() if c}


def live_drug_classes():
    """[(drug class, number of live entries)] in A–Z order, blank classes left out."""
    from django.db.models import Count

    rows = (
        live_editions()
        .order_by()
        .exclude(drug_class="")
        .values("drug_class")
        .annotate(n=Count("pk"))
        .order_by("drug_class")
    )
    return [(row["drug_class"], row["n"]) for row in rows]


def live_editions_in_class(drug_class):
    return live_editions_by_name().filter(drug_class=drug_class)
