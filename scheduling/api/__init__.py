"""The booking APIs: public (customers, the widget), staff (API keys) and calendar files (ics)."""
