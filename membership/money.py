"""Amounts as Stripe counts them (smallest units) shown as readers expect."""

from django.utils.formats import number_format

_SYMBOLS = {"gbp": "£", "eur": "€", "usd": "$", "uah": "₴"}
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd"}


def format_amount(amount: int, currency: str) -> str:
    """Format 500 gbp as "£5" and 550 gbp as "£5.50"; unknown currencies get their code."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        number = number_format(amount, decimal_pos=0, force_grouping=True)
    elif amount % 100 == 0:
        number = number_format(amount // 100, decimal_pos=0, force_grouping=True)
    else:
        number = number_format(amount / 100, decimal_pos=2, force_grouping=True)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"
