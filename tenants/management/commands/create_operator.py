"""Create a platform operator (or flag an existing user as one)."""

import getpass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.services import operator_create


class Command(BaseCommand):
    help = "Create a platform operator who can open /console/."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Operator")
        parser.add_argument(
            "--password", help="Read from the prompt when omitted (safer than the shell history)."
        )

    def handle(self, *args, email, name, password, **options):
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        try:
            password_validation.validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages))
        user = operator_create(email=email, full_name=name, password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Operator {user.email} is ready. Sign in at /account/login/ and set up "
                "two-factor authentication before opening /console/."
            )
        )
