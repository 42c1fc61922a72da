"""The errors of online payment, each with its own code."""

from __future__ import annotations

from booking.enums import ErrorCode
from booking.errors import AppError, Conflict


class PaymentsNotConfigured(Conflict):
    code = ErrorCode.PAYMENTS_NOT_CONFIGURED


class NothingToPay(Conflict):
    code = ErrorCode.NOTHING_TO_PAY


class PaymentProviderFailed(AppError):
    status = 502
    code = ErrorCode.PAYMENT_PROVIDER_ERROR


class InvalidSignature(AppError):
    status = 400
    code = ErrorCode.INVALID_SIGNATURE
