"""The dashboard's per-day aggregates (insights_bookingday, insights_moneyday): what each row of
the bookings and money tables contributes (`moves.py`), the triggers that keep them and the
rebuild (`triggers.py`). docs/dashboard.md, "Aggregates kept with the writes"."""
