"""Fill the database with a synthetic formulary at Hong Kong hospital scale, for benchmarks."""

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from bench.synthetic.writer import generate


class Command(BaseCommand):
    help = (
        "Add synthetic entries (marked SYNTHETIC DATA) with sections, products, strengths, years of "
        "reversion history and a live published edition. Running again adds more entries."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=5000, help="Entries to add (default 5000).")
        parser.add_argument("--products-per-entry", type=int, default=6, help="Products per entry (default 6).")
        parser.add_argument("--strengths-per-product", type=int, default=3, help="Strengths per product (default 3).")
        parser.add_argument("--versions", type=int, default=5, help="Versions of history per entry (default 5).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same data.")
        parser.add_argument("--batch-size", type=int, default=250, help="Entries written per transaction.")
        parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")

    def handle(
        self, *args, entries, products_per_entry, strengths_per_product, versions, seed, batch_size, quiet, **options
    ):
        # With DEBUG on, Django keeps the SQL of every query in memory and formats each multi-row
        # insert for it: hundreds of megabytes and much of the time of a 20,000-entry load.
        try:
            with override_settings(DEBUG=False):
                result = generate(
                    entries=entries,
                    products_per_entry=products_per_entry,
                    strengths_per_product=strengths_per_product,
                    versions=versions,
                    seed=seed,
                    batch_size=batch_size,
                    progress=None if quiet else self.stderr,
                )
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        if result.registration_numbers_exhausted:
            self.stderr.write("All HK-NNNNN registration numbers are taken; later strengths were left without one.")
        self.stdout.write(self.style.SUCCESS(f"Generated {result.summary()}."))
