"""The invoicing's error codes: invoices, credit notes, closing documents."""

from podpiska.core.domain.errors import Code, Kind, register

CODES = {
    "refund_exceeds_credit": Code(
        Kind.INVALID,
        ru="Возврат {amount} больше остатка на счёте: {available}.",
        en="A refund of {amount} exceeds the account's credit: {available}.",
    ),
    "credit_note_not_allowed": Code(
        Kind.CONFLICT,
        ru="Счёт {number} в состоянии «{status}»: корректировочный документ выписывается "
        "к оплаченному счёту, неоплаченный аннулируется.",
        en="Invoice {number} is '{status}': a credit note corrects a paid invoice; an "
        "unpaid one is voided.",
    ),
    "credit_note_exists": Code(
        Kind.CONFLICT,
        ru="К счёту {number} уже выписан корректировочный документ.",
        en="Invoice {number} already has a credit note.",
    ),
    "document_not_found": Code(
        Kind.NOT_FOUND,
        ru="Документ «{what}» к {source} не выписан: {why}.",
        en="No {what} was issued for {source}: {why}.",
    ),
    "edo_id_missing": Code(
        Kind.CONFLICT,
        ru="Для XML-файла УПД нужен идентификатор участника ЭДО: {which}.",
        en="The UPD's XML file needs an EDO participant id: {which}.",
    ),
    "edo_file_refused": Code(
        Kind.CONFLICT,
        ru="XML-файл ЭДО документа {number} не сформирован: {reason}.",
        en="The EDO XML file of document {number} cannot be made: {reason}.",
    ),
    "buyer_edo_id_missing": Code(
        Kind.CONFLICT,
        ru="У покупателя (аккаунт {account_id}) не указан идентификатор участника ЭДО: "
        "укажите его в реквизитах аккаунта (edo_id) или параметром recipient.",
        en="The buyer (account {account_id}) has no EDO participant id: set it in the "
        "account's requisites (edo_id) or give the parameter recipient.",
    ),
    "invoice_not_payable": Code(
        Kind.CONFLICT,
        ru="Счёт {number} в состоянии «{status}»: оплатить его нельзя.",
        en="Invoice {number} is '{status}': it cannot be paid.",
    ),
    "credit_note_term_ahead": Code(
        Kind.CONFLICT,
        ru="Счёт {number} оплачивает период, а следующий период (с {starts_on}) уже "
        "оплачен заранее: сначала выпишите корректировочный документ к счёту следующего "
        "периода, когда он начнётся, или дождитесь его начала.",
        en="Invoice {number} pays for a term while the next term (from {starts_on}) is "
        "already paid ahead: a credit note can take back a term once no later term is "
        "paid ahead of it; wait until {starts_on}.",
    ),
    "credit_note_change_in_force": Code(
        Kind.CONFLICT,
        ru="Счёт {number} оплатил изменение подписки, которое действует до {paid_through}: "
        "деньги за него нельзя вернуть, пока оно действует. Верните весь период "
        "(корректировочный документ к счёту периода) или дождитесь его конца.",
        en="Invoice {number} paid for a change in force until {paid_through}: its money "
        "cannot be taken back while it is in force. Take back the whole term (a credit note "
        "on the term's invoice) or wait until it ends.",
    ),
    "document_fix_reason_required": Code(
        Kind.INVALID,
        ru="Укажите причину исправления документа {number}: одна строка, не более {max} символов.",
        en="Give the reason for correcting document {number}: one line of at most {max} "
        "characters.",
    ),
    "document_fix_reason_too_long": Code(
        Kind.INVALID,
        ru="Причина исправления длиннее {max} символов: {length}.",
        en="The reason for the correction is longer than {max} characters: {length}.",
    ),
    "document_not_rendered": Code(
        Kind.CONFLICT,
        ru="Документ {number} ещё не сформирован: он будет сформирован с текущими "
        "реквизитами, исправление не нужно.",
        en="Document {number} has not been made yet: it will be made with the current "
        "requisites, no correction is needed.",
    ),
    "invoice_void_not_sent": Code(
        Kind.CONFLICT,
        ru="Счёт {number} аннулирован: повторно он не отправляется.",
        en="Invoice {number} is void: it is not sent again.",
    ),
}

register("invoicing", CODES)
