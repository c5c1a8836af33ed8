"""The generic error codes: what any area may say (not found, a field or an amount that is
wrong, idempotency, test clocks, event types, request size)."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "not_found": Code(
        Kind.NOT_FOUND,
        ru="Не найдено: {what} № {id}.",
        en="{what} {id} was not found.",
    ),
    "invalid_amount": Code(
        Kind.INVALID,
        ru="Сумма — это рубли цифрами 0–9, больше нуля, с точкой или запятой и не больше "
        "двух знаков после неё (не больше 13 цифр до неё), например 1500.00; указано {amount}.",
        en="An amount is roubles in digits 0-9, above zero, with a point or a comma and at "
        "most two decimals (at most 13 digits before it), e.g. 1500.00; got {amount}.",
    ),
    "invalid_field": Code(
        Kind.INVALID,
        ru="Поле «{field}»: {problem_ru}.",
        en="Field '{field}': {problem_en}.",
    ),
    "idempotency_conflict": Code(
        Kind.CONFLICT,
        ru="Ключ идемпотентности «{key}» уже использован с другими параметрами запроса.",
        en="Idempotency key '{key}' was already used with other request parameters.",
    ),
    "idempotency_in_progress": Code(
        Kind.CONFLICT,
        ru="Запрос с ключом идемпотентности «{key}» ещё выполняется. Повторите позже.",
        en="A request with idempotency key '{key}' is still in progress. Retry later.",
    ),
    "test_clock_backwards": Code(
        Kind.CONFLICT,
        ru="Тестовые часы № {id} показывают {now}: двигать их можно только вперёд.",
        en="Test clock {id} is at {now}: it only moves forward.",
    ),
    "unknown_event_type": Code(
        Kind.INVALID,
        ru="Тип события «{event_type}» неизвестен. Доступны: {allowed}.",
        en="Unknown event type '{event_type}'. Allowed: {allowed}.",
    ),
    "test_clock_advance_too_far": Code(
        Kind.INVALID,
        ru="Тестовые часы двигаются не больше чем на {max_days} дн. за один запрос "
        "(запрошено: {asked}). Двигайте их несколькими запросами.",
        en="A test clock moves at most {max_days} days per request (asked: {asked}). "
        "Move it in several requests.",
    ),
    "body_too_large": Code(
        Kind.TOO_LARGE,
        ru="Тело запроса больше допустимого: не более {limit} байт для этого адреса.",
        en="The request body is too large: at most {limit} bytes for this route.",
    ),
}

register("core", CODES)
