"""Products of the synthetic formulary: brand and generic products with registered strengths."""

from decimal import Decimal

from monographs.models import Strength, strength_text
from monographs.vocabulary import DosageForm, FormularyStatus, ProductKind, Unit

# The demo data uses HK-90101..HK-90306; generated numbers never enter this block.
RESERVED_REGISTRATION_BLOCK = range(90000, 90400)
REGISTRATION_NUMBER_LIMIT = 100_000

COLOURS = [
    "white",
    "pale yellow",
    "pink",
    "light blue",
    "orange",
    "white to off-white",
    "brown",
    "pale green",
    "lavender",
]
HOLDERS = [
    "Harbour Pharmaceutical (HK) Ltd",
    "Kowloon Life Sciences Ltd",
    "Victoria Peak Pharma Ltd",
    "Pearl River Medical Supplies Ltd",
    "Lantau Generics Ltd",
    "Tsing Yi Healthcare Ltd",
    "Sai Kung Biotech Ltd",
    "Jade Dragon Pharmaceuticals (HK) Ltd",
    "Star Ferry Medical Ltd",
    "Lion Rock Pharma Ltd",
    "Central Medical Distributors Ltd",
    "Aberdeen Pharmaceutical Ltd",
    "New Territories Drug Co Ltd",
    "Tai Po Life Science Park Pharma Ltd",
    "Causeway Bay Medical Ltd",
    "Repulse Bay Pharma (HK) Ltd",
    "Shatin Generics Ltd",
    "Stanley Biologics Ltd",
    "Lamma Healthcare Ltd",
    "Cheung Chau Pharma Ltd",
    "Wan Chai Pharmaceutical Trading Ltd",
    "Mong Kok Medical Ltd",
]
BRAND_ENDINGS = ["ex", "ra", "vel", "tis", "lyn", "qua", "mire", "zon", "dia", "fen", "ax", "oma"]


class RegistrationNumbers:
    """Hands out unused HK-NNNNN numbers, skipping the demo block; '' once all are taken."""

    def __init__(self):
        taken = Strength.objects.exclude(registration_number="").values_list("registration_number", flat=True)
        self.taken = {int(number[3:]) for number in taken}
        self.next = 1
        self.exhausted = False

    def take(self):
        while self.next < REGISTRATION_NUMBER_LIMIT:
            number = self.next
            self.next += 1
            if number in self.taken or number in RESERVED_REGISTRATION_BLOCK:
                continue
            self.taken.add(number)
            return f"HK-{number:05d}"
        self.exhausted = True
        return ""


def product_specs(rng, name, drug_class, count, strengths_per_product):
    holders = rng.sample(HOLDERS, k=min(count, len(HOLDERS)))
    brands = 1 if count < 3 else rng.randint(1, 2)
    specs = []
    for i in range(count):
        holder = holders[i % len(holders)] + ("" if i < len(holders) else f" ({i})")
        preset = (
            drug_class.forms[i % len(drug_class.forms)] if i < len(drug_class.forms) else rng.choice(drug_class.forms)
        )
        form, route, unit, per_amount, per_unit, pack, appearance = preset
        form_label = str(DosageForm(form).label)
        if unit == Unit.PERCENT:
            amounts = ["0.05", "0.1", "0.3", "0.5", "1", "2"]
        elif form == DosageForm.INHALER:
            amounts = ["50", "100", "125", "200", "250", "400"]
        else:
            amounts = list(drug_class.amounts)
        if i < brands:
            kind = ProductKind.BRAND
            product_name = (name[: rng.randint(3, 5)] + rng.choice(BRAND_ENDINGS)).capitalize()
        else:
            kind = ProductKind.GENERIC
            plural = "s" if form_label.endswith(("tablet", "Tablet", "Capsule")) else ""
            product_name = f"{name} {form_label}{plural} ({holder.split()[0]})"
        while len(amounts) < strengths_per_product:
            amounts.append(str(Decimal(amounts[-1]) * 2))
        chosen = sorted(rng.sample(amounts, k=strengths_per_product), key=Decimal)
        code = "".join(c for c in product_name.upper() if c.isalpha())[:3]
        colour = rng.choice(COLOURS)
        strengths = []
        for amount in chosen:
            strengths.append(
                {
                    "amount": Decimal(amount),
                    "unit": unit,
                    "per_amount": per_amount,
                    "per_unit": per_unit,
                    "dosage_form": form,
                    "route": route,
                    "appearance": appearance.format(colour=colour, code=code, amount=amount),
                    "pack_size": pack,
                }
            )
        label_unit = Unit(unit).label
        specs.append(
            {
                "name": product_name,
                "kind": kind,
                "holder": holder,
                "legal": drug_class.legal,
                "sale": drug_class.sale,
                "status": rng.choice(
                    [
                        FormularyStatus.GENERAL,
                        FormularyStatus.GENERAL,
                        FormularyStatus.SPECIAL,
                        FormularyStatus.SFI_SAFETY_NET,
                        FormularyStatus.SFI,
                    ]
                ),
                "form_label": form_label,
                "strengths": strengths,
                "strength_labels": [
                    strength_text(a, label_unit, per_amount or None, Unit(per_unit).label if per_amount else "")
                    for a in chosen
                ],
            }
        )
    return specs
