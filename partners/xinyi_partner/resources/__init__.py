"""What a partner can do, by kind: every method of :class:`PartnerAPI` is one description of a request
(:mod:`xinyi_partner.calls`), sent by the sync :class:`~xinyi_partner.PartnerClient` or the
:class:`~xinyi_partner.AsyncPartnerClient`."""

from __future__ import annotations

from xinyi_partner.calls import listing, operation
from xinyi_partner.resources import banks, data_providers, merchants, webhooks


class PartnerAPI:
    """The partner API's methods. A key may call those its partner's kind and scopes allow; others are
    refused with :class:`~xinyi_partner.PermissionDeniedError` (``403``)."""

    # every kind
    me = operation(webhooks.me)
    create_webhook_endpoint = operation(webhooks.create_webhook_endpoint)
    list_webhook_endpoints = listing(webhooks.list_webhook_endpoints)
    get_webhook_endpoint = operation(webhooks.get_webhook_endpoint)
    update_webhook_endpoint = operation(webhooks.update_webhook_endpoint)
    delete_webhook_endpoint = operation(webhooks.delete_webhook_endpoint)
    rotate_webhook_secret = operation(webhooks.rotate_webhook_secret)
    list_webhook_deliveries = listing(webhooks.list_webhook_deliveries)
    get_webhook_delivery = operation(webhooks.get_webhook_delivery)

    # merchants and government counters
    verify = operation(merchants.verify)
    report_offline_uses = operation(merchants.report_offline_uses)
    open_rental = operation(merchants.open_rental)
    return_rental = operation(merchants.return_rental)
    report_default = operation(merchants.report_default)
    get_rental = operation(merchants.get_rental)
    list_rentals = listing(merchants.list_rentals)
    create_scanner_device = operation(merchants.create_scanner_device)
    list_scanner_devices = listing(merchants.list_scanner_devices)
    revoke_scanner_device = operation(merchants.revoke_scanner_device)

    # banks
    list_referrals = listing(banks.list_referrals)
    get_referral = operation(banks.get_referral)
    get_referral_report = operation(banks.get_referral_report)
    approve_referral = operation(banks.approve_referral)
    decline_referral = operation(banks.decline_referral)
    report_outcome = operation(banks.report_outcome)
    list_loan_products = listing(banks.list_loan_products)
    create_loan_product = operation(banks.create_loan_product)
    update_loan_product = operation(banks.update_loan_product)

    # data providers
    submit_records = operation(data_providers.submit_records)
    list_objections = listing(data_providers.list_objections)
    list_objection_events = listing(data_providers.list_objection_events)
    get_objection_evidence = operation(data_providers.get_objection_evidence)


__all__ = ["PartnerAPI"]
