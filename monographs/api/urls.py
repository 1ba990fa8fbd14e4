"""Addresses of the interoperability API: REST under /api/v1/, FHIR R4 under /fhir/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import fhir_views, views

api_patterns = (
    [
        path("entries/", views.EntryListView.as_view(), name="entry-list"),
        path("entries/<str:key>/", views.EntryDetailView.as_view(), name="entry-detail"),
        path("search/", views.SearchView.as_view(), name="search"),
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
    ],
    "api",
)

fhir_patterns = (
    [
        path("MedicationKnowledge", fhir_views.medication_knowledge_search, name="medicationknowledge-search"),
        path("MedicationKnowledge/<str:pk>", fhir_views.medication_knowledge_read, name="medicationknowledge-read"),
        path("Medication", fhir_views.medication_search, name="medication-search"),
        path("Medication/<str:pk>", fhir_views.medication_read, name="medication-read"),
    ],
    "fhir",
)

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    path("fhir/", include(fhir_patterns)),
]
