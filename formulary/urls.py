from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Hospital Formulary"
admin.site.site_title = "Formulary admin"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("monographs.api.urls")),
    path("", include("monographs.urls")),
]
