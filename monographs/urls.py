from django.urls import path

from . import views

app_name = "monographs"

urlpatterns = [
    path("entries/<slug:slug>/", views.entry_detail, name="entry_detail"),
]
