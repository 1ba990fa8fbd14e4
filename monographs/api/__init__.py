"""Read-only interoperability API over published editions (REST under /api/v1/, FHIR R4 under /fhir/)."""
