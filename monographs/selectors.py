"""Public reads. Everything here sees published (live) editions only, so no
draft, never-published or withdrawn text can reach a public page, search,
feed or API that reads through these functions."""

from django.http import Http404

from .models import Edition


def live_editions():
    return Edition.objects.live()


def live_edition_for_slug(slug):
    """The live edition at this public address, or Http404."""
    edition = live_editions().filter(slug=slug).first()
    if edition is None:
        raise Http404("No published entry at this address.")
    return edition
