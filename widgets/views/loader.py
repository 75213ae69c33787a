"""The loader script, served once from the platform host for every business."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


def tenant_base(request: HttpRequest) -> dict:
    """Scheme, platform domain and port from which the script builds `<slug>.<domain>` URLs.

    As tenants.services.tenant_url does; when PLATFORM_PORT is unset (tests, a bare
    `runserver`), the port this request came in on, if it named one.
    """
    host = request.get_host()
    port = settings.PLATFORM_PORT or (host.rsplit(":", 1)[1] if ":" in host else "")
    return {
        "scheme": settings.PLATFORM_SCHEME,
        "domain": settings.PLATFORM_DOMAIN,
        "port": f":{port}" if port else "",
    }


@require_GET
@cache_control(public=True, max_age=300)
def widget_js(request: HttpRequest) -> HttpResponse:
    script = render_to_string("widgets/widget.js", {"base": tenant_base(request)})
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
