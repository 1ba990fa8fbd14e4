from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    """Installed only for its `generate_formulary` management command (see the package docstring)."""

    name = "bench.synthetic"
    label = "synthetic"
    verbose_name = "Synthetic benchmark data"
