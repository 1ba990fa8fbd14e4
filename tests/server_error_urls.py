"""The formulary's URLs plus one view that fails, to see what a production server error leaves behind."""

from django.urls import path

from formulary.urls import urlpatterns as formulary_urlpatterns


def fail(request):
    raise RuntimeError("deliberate failure for the error-log test")


# Added to the list rather than included: the public pages' i18n_patterns must stay in the root URLconf.
urlpatterns = [path("test-server-error/", fail), *formulary_urlpatterns]
