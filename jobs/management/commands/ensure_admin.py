import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a first admin account when there is none. With DJANGO_SUPERUSER_USERNAME and "
        "DJANGO_SUPERUSER_PASSWORD set, Django's createsuperuser --noinput uses them; otherwise the "
        "account is 'admin' with a generated password written to a file in the data dir."
    )

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        if os.environ.get("DJANGO_SUPERUSER_USERNAME") and os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            call_command("createsuperuser", interactive=False, email=os.environ.get("DJANGO_SUPERUSER_EMAIL", ""))
            self.stdout.write(f"Created admin account {os.environ['DJANGO_SUPERUSER_USERNAME']!r}.")
            return
        password = secrets.token_urlsafe(18)
        users.create_superuser(username="admin", email="", password=password)
        path = settings.DATA_DIR / "admin-password.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        self.stdout.write(f"Created admin account 'admin'; its password is in {path}")
