"""The customer's portal (`account_admin`; the vendor's people may look too): every URL
carries the account's id, and another account's page answers 404 (`guard_account`).

One module per topic: `subscription` (the overview), `renewal` (periods and prices side by
side), `paying` (at the gateway by card, SBP or YooMoney — those the gateway takes —, by a
saved method or by bank transfer with the invoice's PDF), `documents`, `changes` (the tariff
or the users: the exact preview, then confirm), `settings` (autopay and saved cards, the
e-mails' language, cancellation at the end of the term), `market` (the Marketplace and the
tariff advisor); `common` is what the billing pages share.

Every route calls the same services as the API (`billing`, `changes`, `payments`,
`documents`); nothing here decides a price, a date or whether something is allowed. The
account's administrator sees its own account only (another's answers 404); the vendor's
people may open any account's pages. What changes something takes two clicks where the
2026 rules ask for it (autopay, removing a card, cancelling): the first shows what will
happen, the second (a form carrying `confirmed`) does it.
"""
