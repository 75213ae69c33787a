"""Platform plans, the fee rate on booking payments and the operator's overrides of it.

Billing sits beside connect_payments and below it in use: connect_payments asks billing for a
tenant's fee rate; billing never imports connect_payments.
"""
