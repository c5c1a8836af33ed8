"""The entitlements' error codes: apps, trials, decisions, license files."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "license_expired": Code(
        Kind.INVALID,
        ru="Лицензия {serial} истекла: оплачена по {paid_through}, льготный период "
        "закончился {grace_until}. Продлите подписку и установите новый файл лицензии.",
        en="License {serial} has expired: it was paid through {paid_through} and its grace "
        "period ended on {grace_until}. Renew the subscription and install the new license file.",
    ),
    "license_tampered": Code(
        Kind.INVALID,
        ru="Файл лицензии изменён после подписи: подпись не сходится ({problem}). "
        "Скачайте файл заново.",
        en="The license file was changed after it was signed: the signature does not match "
        "({problem}). Download the file again.",
    ),
    "license_wrong_key": Code(
        Kind.INVALID,
        ru="Лицензия подписана другим ключом ({key_id}), а проверяется ключом "
        "{expected_key_id}: возьмите открытый ключ, которым подписан файл.",
        en="The license was signed with another key ({key_id}) than the one checking it "
        "({expected_key_id}): use the public key the file was signed with.",
    ),
    "license_malformed": Code(
        Kind.INVALID,
        ru="Это не файл лицензии Podpiska: {problem}.",
        en="This is not a Podpiska license file: {problem}.",
    ),
    "license_key_invalid": Code(
        Kind.INVALID,
        ru="Ключ {source} не подходит: {problem}.",
        en="Key {source} cannot be used: {problem}.",
    ),
    "license_not_on_premise": Code(
        Kind.CONFLICT,
        ru="Портал № {account_id} работает в облаке: файл лицензии выдаётся только "
        "коробочной редакции (on_premise).",
        en="Account {account_id} is a cloud account: license files are issued to on-premise "
        "accounts only.",
    ),
    "license_not_paid": Code(
        Kind.CONFLICT,
        ru="У портала № {account_id} нет оплаченной подписки (состояние «{status}»): файл "
        "лицензии выдаётся на оплаченный период.",
        en="Account {account_id} has no paid subscription (state '{status}'): a license "
        "file is issued for a paid term.",
    ),
    "license_not_found": Code(
        Kind.NOT_FOUND,
        ru="Порталу № {account_id} ещё не выдан файл лицензии.",
        en="No license file has been issued to account {account_id} yet.",
    ),
    "not_entitled": Code(
        Kind.FORBIDDEN,
        ru="Нет доступа. {message}",
        en="Not entitled. {message}",
    ),
    "no_trial": Code(
        Kind.INVALID,
        ru="Пробный период «{add_on}» не предусмотрен каталогом.",
        en="The catalog offers no trial of '{add_on}'.",
    ),
    "trial_used": Code(
        Kind.CONFLICT,
        ru="Пробный период «{add_on}» уже был у этого портала ({starts_on} – {ends_on}).",
        en="This account already had its trial of '{add_on}' ({starts_on} – {ends_on}).",
    ),
    "trial_not_needed": Code(
        Kind.CONFLICT,
        ru="Подписка «{add_on}» уже подключена: пробный период не нужен.",
        en="The account already has '{add_on}': no trial needed.",
    ),
    "unknown_app": Code(
        Kind.NOT_FOUND,
        ru="Приложение «{app}» не найдено в каталоге приложений.",
        en="App '{app}' is not in the app registry.",
    ),
    "invalid_app": Code(
        Kind.INVALID,
        ru="Приложение {at}: {problem}.",
        en="App {at}: {problem}.",
    ),
    "unknown_action": Code(
        Kind.INVALID,
        ru="Действие «{action}» неизвестно. Доступны: {allowed}.",
        en="Unknown action '{action}'. Allowed: {allowed}.",
    ),
}

register("entitlements", CODES)
