"""django-axes glue: the sign-in form is two-factor's wizard, whose fields carry a step prefix."""

from django.http import HttpRequest


def username_of_attempt(request: HttpRequest, credentials: dict | None) -> str | None:
    if credentials and credentials.get("username"):
        return str(credentials["username"]).strip().lower()
    data = getattr(request, "POST", {})
    username = data.get("auth-username") or data.get("username")
    return username.strip().lower() if username else None
