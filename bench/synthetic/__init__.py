"""Synthetic formulary content at Hong Kong hospital scale, for benchmarks.

`writer.generate()` fills the database with entries that look like a Hospital
Authority formulary: plausible generic names with synonyms and Chinese names,
about eleven monograph sections each (some bullet lists, some Chinese), brand
and generic products with registered strengths, years of edit history as
django-reversion revisions, and a live published edition with its audit trail.
`manage.py generate_formulary` runs it.

Everything is written with `bulk_create` in batches, so 5,000 entries take a
few minutes. History rows are built the way django-reversion builds them (one
Revision per save, holding a Version of the entry and every section, product
and strength, serialised with Django's "json" serialiser), so the admin history,
compare, restore and the workflow work on generated entries as on real ones.

Every generated entry and product says "SYNTHETIC DATA" in its notes, and the
public disclaimer says so too: none of this is medical information.

Modules, in the order an entry is made:

- `names`: drug classes with their dosage forms, and the generic-name sequence;
- `text`: the monograph sections and their earlier wordings;
- `products`: brand and generic products, strengths and registration numbers;
- `history`: one entry planned in memory with its versions and publications,
  and the snapshot of each version (through `monographs.snapshots`);
- `writer`: `generate()`, which writes planned entries in bulk.

This package is a Django app only so that Django finds its management command;
it has no models, URLs or templates. It imports nothing at load time, as an
app package must not import models.
"""
