"""The formulary's URLs plus a baseline view that does no work beyond Django's own."""

from django.http import HttpResponse
from django.urls import path

from formulary.urls import urlpatterns as formulary_urlpatterns

BASELINE_PATH = "/bench/baseline/"


def baseline(request):
    return HttpResponse("baseline", content_type="text/plain")


# Added to the list rather than included: the public pages' i18n_patterns must stay in the root URLconf.
urlpatterns = [
    path(BASELINE_PATH.strip("/") + "/", baseline, name="bench_baseline"),
    *formulary_urlpatterns,
]
