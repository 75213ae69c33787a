"""FeeOverride moves from connect_payments to billing: state only, the table keeps its name.

No SQL: `connect_payments_feeoverride` and its constraint stay as they are; connect_payments'
0004 removes the model from its own state after this migration adds it here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_default_plans"),
        ("connect_payments", "0003_refund_replaces"),
        ("tenants", "0002_btree_gist"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="FeeOverride",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("fee_basis_points", models.PositiveIntegerField()),
                        ("fee_fixed_minor", models.PositiveIntegerField(default=0)),
                        ("reason", models.TextField(blank=True)),
                        ("set_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "set_by",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "tenant",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="fee_override",
                                to="tenants.tenant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "connect_payments_feeoverride",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("fee_basis_points__lte", 10000)),
                                name="fee_override_at_most_100_percent",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
