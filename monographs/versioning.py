"""Which models django-reversion tracks and how revisions hang together.

Each model follows its parent as well as its children, so a save anywhere (an
entry, one product, one strength) records one revision holding the whole
entry: its sections, products and strengths. Reviews and restores work on that
unit.
"""

import reversion

from .models import Entry, Product, Section, Strength

reversion.register(Entry, follow=["sections", "products"])
reversion.register(Section, follow=["entry"])
reversion.register(Product, follow=["entry", "strengths"])
reversion.register(Strength, follow=["product"])
