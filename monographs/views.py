"""Public formulary pages: thin views over `selectors`."""

from django.shortcuts import render

from . import selectors


def entry_detail(request, slug):
    edition = selectors.live_edition_for_slug(slug)
    return render(request, "monographs/entry_detail.html", {"edition": edition, "entry": edition.content})
