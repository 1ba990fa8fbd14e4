"""Addresses of the interoperability API: REST under /api/v1/, FHIR R4 under /fhir/."""

from django.urls import include, path, re_path

from . import fhir_views, views

api_patterns = (
    [
        path("entries/", views.EntryListView.as_view(), name="entry-list"),
        path("entries/<str:key>/", views.EntryDetailView.as_view(), name="entry-detail"),
        path("search/", views.SearchView.as_view(), name="search"),
        path("schema/", views.SchemaView.as_view(), name="schema"),
        path("docs/", views.DocsView.as_view(), name="docs"),
    ],
    "api",
)

fhir_patterns = (
    [
        path("metadata", fhir_views.metadata, name="metadata"),
        path("SearchParameter/<str:pk>", fhir_views.search_parameter_read, name="searchparameter-read"),
        path("MedicationKnowledge", fhir_views.medication_knowledge_search, name="medicationknowledge-search"),
        path("MedicationKnowledge/<str:pk>", fhir_views.medication_knowledge_read, name="medicationknowledge-read"),
        path(
            "MedicationKnowledge/<str:pk>/_history",
            fhir_views.medication_knowledge_history,
            name="medicationknowledge-history",
        ),
        path(
            "MedicationKnowledge/<str:pk>/_history/<str:vid>",
            fhir_views.medication_knowledge_vread,
            name="medicationknowledge-vread",
        ),
        path("Medication", fhir_views.medication_search, name="medication-search"),
        path("Medication/<str:pk>", fhir_views.medication_read, name="medication-read"),
        path("Medication/<str:pk>/_history", fhir_views.medication_history, name="medication-history"),
        path("Medication/<str:pk>/_history/<str:vid>", fhir_views.medication_vread, name="medication-vread"),
        # Everything else under /fhir/ (an unknown type, a trailing slash, /fhir/ itself): a FHIR 404.
        re_path(r"^(?P<path>.*)$", fhir_views.not_found, name="not-found"),
    ],
    "fhir",
)

urlpatterns = [
    path("api/v1/", include(api_patterns)),
    # Any other address under /api/: the API's JSON 404.
    re_path(r"^api/(?P<path>.*)$", views.not_found, name="not-found"),
    path("fhir/", include(fhir_patterns)),
]
