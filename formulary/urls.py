from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from monographs import views as monograph_views

admin.site.site_header = "Hospital Formulary"
admin.site.site_title = "Formulary admin"

urlpatterns = [
    # The admin keeps its own language choice (the language cookie, else Accept-Language).
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("monographs.api.urls")),
    # Asked by the entry page's script, never cached; the same address in every language.
    path("edit-link/<int:entry_id>/", monograph_views.edit_link, name="edit_link"),
]
# Public pages carry their language in the address (/en/…, /zh-hant/…), so a page is the same for
# every visitor and any cache can keep it (docs/public-pages.md). An address without the prefix is
# redirected by LocaleMiddleware to the visitor's language (language cookie, else Accept-Language).
urlpatterns += i18n_patterns(path("", include("monographs.urls")), prefix_default_language=True)
