"""Platform-host endpoint of payments: Stripe webhooks (platform and Connect events)."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..exceptions import InvalidWebhook
from ..webhooks.inbox import stripe_event_receive

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature on the raw body authenticates.
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store once, acknowledge; processing happens after commit in a Celery task."""
    try:
        stored = stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except InvalidWebhook as error:
        logger.warning("stripe.webhook_rejected", extra={"reason": str(error)})
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"received": True, "duplicate": stored is None})
