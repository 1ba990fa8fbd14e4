"""The formulary's URLs plus a baseline view that does no work beyond Django's own."""

from django.http import HttpResponse
from django.urls import include, path

BASELINE_PATH = "/bench/baseline/"


def baseline(request):
    return HttpResponse("baseline", content_type="text/plain")


urlpatterns = [
    path(BASELINE_PATH.strip("/") + "/", baseline, name="bench_baseline"),
    path("", include("formulary.urls")),
]
