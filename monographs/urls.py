from django.urls import path

from . import feeds, views

app_name = "monographs"

urlpatterns = [
    path("", views.home, name="home"),
    path("entries/", views.entry_list, name="entry_list"),
    path("entries/<slug:slug>/", views.entry_detail, name="entry_detail"),
    path("entries/<slug:slug>/bilingual/", views.entry_bilingual, name="entry_bilingual"),
    path("entries/<slug:slug>/compare/<int:old>/<int:new>/", views.entry_compare, name="entry_compare"),
    path("changes/", views.changes, name="changes"),
    path("changes/feed/", feeds.changes_feed, name="changes_feed"),
    path("classes/", views.drug_class_list, name="class_list"),
    path("classes/<str:slug>/", views.drug_class_detail, name="class_detail"),
    path("classes/<str:slug>/booklet.pdf", views.booklet, name="class_booklet"),
    path("booklet.pdf", views.booklet, name="booklet"),
    path("search/", views.search, name="search"),
]
