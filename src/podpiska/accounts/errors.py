"""The accounts' error codes: people and their logins, an account's users, consent."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "login_failed": Code(
        Kind.FORBIDDEN,
        ru="Неверный e-mail или пароль.",
        en="Wrong e-mail or password.",
    ),
    "login_locked": Code(
        Kind.FORBIDDEN,
        ru="Слишком много неудачных попыток входа: вход заблокирован до {until}.",
        en="Too many failed login attempts: logging in is locked until {until}.",
    ),
    "person_exists": Code(
        Kind.CONFLICT,
        ru="Пользователь с e-mail {email} уже есть.",
        en="A person with e-mail {email} already exists.",
    ),
    "user_exists": Code(
        Kind.CONFLICT,
        ru="Пользователь {email} уже есть на портале.",
        en="User {email} already exists in the account.",
    ),
    "user_limit_reached": Code(
        Kind.INVALID,
        ru="На тарифе «{plan}» не больше {limit} активных пользователей, сейчас {active}. {advice}",
        en="Plan '{plan}' allows at most {limit} active users; there are {active}. {advice}",
    ),
    "last_admin": Code(
        Kind.CONFLICT,
        ru="{email} — единственный активный администратор портала: назначьте другого, "
        "прежде чем блокировать.",
        en="{email} is the account's only active administrator: make someone else an "
        "administrator before blocking.",
    ),
    "consent_by_customer_only": Code(
        Kind.FORBIDDEN,
        ru="Согласие на списания и автоплатёж даёт только сам клиент: администратор "
        "портала или ключ API этого портала ({actor} к ним не относится).",
        en="Only the customer gives consent to recurring charges and turns autopay on: "
        "the account's own administrator or API key ({actor} is neither).",
    ),
}

register("accounts", CODES)
