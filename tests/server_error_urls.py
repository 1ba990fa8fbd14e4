"""The formulary's URLs plus one view that fails, to see what a production server error leaves behind."""

from django.urls import include, path


def fail(request):
    raise RuntimeError("deliberate failure for the error-log test")


urlpatterns = [
    path("test-server-error/", fail),
    path("", include("formulary.urls")),
]
