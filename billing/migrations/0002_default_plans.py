from django.db import migrations

PLANS = [
    # code, name, monthly price (cents), fee basis points, fixed fee (cents), max staff, default
    ("starter", "Starter", 1900, 250, 25, 3, True),
    ("studio", "Studio", 4900, 150, 20, 15, False),
    ("pro", "Pro", 9900, 100, 15, None, False),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for order, (code, name, price, bps, fixed, staff, default) in enumerate(PLANS):
        Plan.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "monthly_price_minor": price,
                "currency": "EUR",
                "fee_basis_points": bps,
                "fee_fixed_minor": fixed,
                "max_staff": staff,
                "is_default": default,
                "display_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
