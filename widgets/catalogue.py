"""Customer-facing strings of the booking and manage pages' scripts, translated on the server.

The page embeds them (in the active language) in its JSON configuration, so the scripts carry
no wording of their own and need no separate catalogue request. `{name}` placeholders are
filled in by the script.
"""

from django.utils.translation import gettext_lazy as _

STRINGS = {
    "steps.service": _("Choose a service"),
    "steps.staff": _("Choose who"),
    "steps.time": _("Choose a time"),
    "steps.details": _("Your details"),
    "steps.summary": _("Check and confirm"),
    "steps.payment": _("Payment"),
    "steps.done": _("Booking confirmed"),
    "step_of": _("Step {n} of {total}"),
    "step_first": _("Step {n}"),
    "back": _("Back"),
    "continue": _("Continue"),
    "loading": _("Loading…"),
    "retry": _("Try again"),
    "network_error": _(
        "We could not reach the booking service. Check your connection and try again."
    ),
    "no_services": _(
        "Online booking has no services to offer at the moment. Please contact the business."
    ),
    "other_category": _("Other services"),
    "minutes": _("{n} min"),
    "hours_minutes": _("{h} h {m} min"),
    "hours": _("{h} h"),
    "free": _("Free"),
    "pay_at_venue": _("Pay at the venue"),
    "pay_online": _("Pay online"),
    "deposit_online": _("Deposit {amount} online"),
    "online_unavailable": _(
        "Online payment is not available at the moment: please contact the business to book this "
        "service."
    ),
    "seats_left": _("{n} places left"),
    "waitlist_link": _("Fully booked, or no time suits you? Join the waitlist"),
    "anyone": _("Anyone available"),
    "anyone_hint": _("We pick a free team member for you"),
    "previous_month": _("Previous month"),
    "next_month": _("Next month"),
    "no_days": _("No free times this month."),
    "no_days_hint": _("Try the next month."),
    "no_availability": _(
        "This service has no free times in the coming months. Please contact the business."
    ),
    "day_available": _("{date}, times available"),
    "day_unavailable": _("{date}, no times"),
    "time_in_zone": _("{time} ({zone} time)"),
    "times_of_day": _("{date} · times in {zone}"),
    "no_times": _("No free times left on this day. Please choose another day."),
    "times_in_zone": _("Times are shown in your time zone, {zone}."),
    "business_zone": _("The business is in {zone}: {time} there."),
    "business_zone_short": _("Business time: {zone}"),
    "change_zone": _("Time zone"),
    "name": _("Full name"),
    "email": _("Email"),
    "email_hint": _("We send your confirmation here."),
    "phone": _("Phone"),
    "phone_hint": _("With the country code, e.g. +33 6 12 34 56 78."),
    "notes": _("Notes for the business (optional)"),
    "consent": _(
        "I agree to the cancellation policy and to {business} keeping my details to manage this "
        "booking."
    ),
    "required": _("This field is required."),
    "invalid_email": _("Enter a valid email address."),
    "invalid_phone": _("Enter a valid phone number."),
    "consent_required": _("Please accept to continue."),
    "fix_errors": _("Please correct the highlighted fields."),
    "summary_service": _("Service"),
    "summary_with": _("With"),
    "summary_when": _("When"),
    "summary_duration": _("Duration"),
    "summary_customer": _("Booked for"),
    "summary_total": _("Total"),
    "summary_due_now": _("Due now"),
    "summary_deposit": _("Deposit paid online"),
    "summary_balance": _("Balance to pay at the venue"),
    "summary_at_venue": _("To pay at the venue"),
    "summary_promo": _("Promo code {code}"),
    "summary_discount": _("Discount"),
    "summary_after_discount": _("Total after discount"),
    "summary_paid": _("Paid online"),
    "promo_code": _("Promo code (optional)"),
    "promo_hint": _("Have a code? Enter it here: the discount is shown before you pay."),
    "promo_invalid": _("This promo code is not valid."),
    "policy": _("Cancellation policy"),
    "policy_unknown": _("Ask the business about cancellations."),
    "confirm_booking": _("Confirm booking"),
    "continue_to_payment": _("Continue to payment"),
    "booking_in_progress": _("Reserving your time…"),
    "slot_taken": _("That time was just taken — please pick another time."),
    "hold_expired": _("The time reserved for you ran out — please pick a time again."),
    "pay": _("Pay {amount}"),
    "paying": _("Processing your payment…"),
    "held_until": _("Your time is reserved until {time}."),
    "payment_unavailable": _("Payment is temporarily unavailable. Please try again in a moment."),
    "payment_failed": _("The payment did not go through."),
    "payment_pending": _("Waiting for the payment to be confirmed…"),
    "done_title": _("You're booked!"),
    "done_text": _("A confirmation has been sent to {email}."),
    "reference": _("Reference"),
    "add_to_calendar": _("Add to calendar"),
    "google_calendar": _("Google Calendar"),
    "ics_file": _("Apple / Outlook (.ics)"),
    "manage_link": _("Change or cancel this booking"),
    "book_another": _("Book another appointment"),
    "manage.title": _("Your booking"),
    "manage.status": _("Status"),
    "status.held": _("Awaiting payment"),
    "status.confirmed": _("Confirmed"),
    "status.completed": _("Completed"),
    "status.no_show": _("Missed"),
    "status.cancelled": _("Cancelled"),
    "status.expired": _("Expired"),
    "manage.cancel": _("Cancel booking"),
    "manage.reschedule": _("Change time"),
    "manage.reschedule_seat": _("Change session"),
    "manage.keep": _("Keep my booking"),
    "manage.confirm_cancel": _("Yes, cancel it"),
    "manage.cancel_question": _("Cancel this booking?"),
    "manage.refund_full": _("If you cancel now, you get a full refund of what you paid."),
    "manage.refund_partial": _("If you cancel now, you get {percent} of what you paid back."),
    "manage.refund_none": _("If you cancel now, nothing is refunded."),
    "manage.nothing_paid": _("Nothing has been paid online for this booking."),
    "manage.cancelled": _("Your booking is cancelled."),
    "manage.refund_done": _("{amount} will be refunded to your card."),
    "manage.pick_new_time": _("Pick a new time"),
    "manage.pick_new_session": _("Pick another session of this class"),
    "manage.move_to": _("Move to {time}"),
    "manage.moved": _("Your booking now starts {time}."),
    "manage.not_changeable": _("This booking can no longer be changed online."),
    "manage.not_found": _(
        "We could not find this booking. Check the link in your confirmation email."
    ),
    "manage.cancel_reason": _("Reason (optional)"),
}


def strings() -> dict[str, str]:
    """The catalogue in the active language. The API's error messages are not copied here: the
    API answers them in the language the page sends as Accept-Language (scheduling.api)."""
    return {key: str(value) for key, value in STRINGS.items()}
