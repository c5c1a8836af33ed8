"""Settings: one class, read from `PODPISKA_*` environment variables (and `.env`)."""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from podpiska.core.domain.requisites import ACCOUNT_LENGTH, USN_VAT_NOTE
from podpiska.core.requisites import (
    MAX_ADDRESS,
    bank_account_problem,
    bik_problem,
    correspondent_account_problem,
    edo_id_problem,
    inn_problem,
    kpp_problem,
    line_problem,
    ogrn_problem,
)

_PROJECT = Path(__file__).resolve().parents[2]

# The secret that development uses when none is set: public (it is in this file), so never
# taken outside development.
DEVELOPMENT_SECRET = "development-only-secret"
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 8  # "aaaa…" or "abab…" is no secret whatever its length
# The test environment (the automated tests) without a secret: one random secret per
# process, never a known one.
_TEST_SECRET = secrets.token_urlsafe(32)


def _default_catalog() -> Path:
    """`catalogs/crm-shop.yaml` here, else the one beside this checkout of Podpiska."""
    here = Path("catalogs/crm-shop.yaml")
    shipped = _PROJECT / "catalogs" / "crm-shop.yaml"
    return here if here.exists() or not shipped.exists() else shipped


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODPISKA_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    catalog: Path = Field(default_factory=_default_catalog)
    cache_dir: Path = Path("var/cache")  # validated catalogs, kept between CLI runs
    language: Literal["ru", "en"] = "ru"
    database_url: str = "sqlite:///var/podpiska.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs sessions, webhooks, change tokens. Unset: the development secret in development,
    # a random one per process in test; production refuses to start without a strong one.
    secret_key: str = ""
    # Mail: SMTP when a host is set, otherwise messages go to a local mailbox folder.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = True
    mail_from: str = "Podpiska <billing@podpiska.local>"
    mailbox_dir: Path = Path("var/mailbox")
    webhook_timeout_seconds: int = 10
    # The vendor's bank accounts (р/с), comma-separated: statement lines to other accounts
    # are skipped. Empty: every incoming line of a statement is taken as the vendor's.
    bank_accounts: str = ""
    # The daily lifecycle run: shards of accounts (one worker job each), and the hour
    # (in the catalog's timezone) when the worker starts it.
    lifecycle_shards: int = 4
    lifecycle_hour: int = 3
    # Where the worker runs: "auto" runs it inside `podpiska serve` with SQLite and expects
    # `podpiska worker` processes (procrastinate) with PostgreSQL.
    worker: Literal["auto", "inprocess", "external"] = "auto"
    worker_poll_seconds: float = 5.0  # float-ok: seconds, not money
    log_format: Literal["json", "text"] = "json"
    # "quiet": entitlement checks and health probes that succeed in under half a second are
    # counted in the metrics but not logged one line each (thousands a second); "all": every
    # request is logged.
    access_log: Literal["all", "quiet"] = "quiet"
    # Accounts whose entitlements the API keeps in memory, per process (docs/entitlements.md).
    entitlement_cache_accounts: int = Field(100_000, ge=1)
    # Entitlement refusals remembered for the back office's timeline (one row per account,
    # action, reason and day): each process counts them in memory and writes a key at most
    # once per this many seconds (0: every refusal; docs/entitlements.md).
    entitlement_refusals: bool = True
    entitlement_refusal_flush_seconds: float = Field(5.0, ge=0, le=3600)  # float-ok: seconds
    # Where customers and gateways reach this server (return URLs, the sandbox's webhooks).
    # Unset: http://<host>:<port> of the server itself (`podpiska serve --port` included;
    # a wildcard host such as 0.0.0.0 is reached at 127.0.0.1).
    public_url: str = ""
    # Payments: the built-in sandbox (test cards, no network) or YooKassa.
    gateway: Literal["sandbox", "yookassa"] = "sandbox"
    sandbox_dir: Path = Path("var/sandbox")  # the sandbox gateway's own state
    yookassa_shop_id: str | None = None
    yookassa_secret_key: str | None = None
    # Two-stage payments: the money is held and captured once the payment is recorded.
    gateway_two_stage: bool = False
    # The vendor as it appears on invoices, acts and credit notes.
    vendor_name: str = "ООО «Подписка»"
    vendor_inn: str = "7707083893"
    vendor_kpp: str = "773601001"
    # The legal address (юридический адрес, as in the ЕГРЮЛ/ЕГРИП); the name is kept from
    # before the postal address existed. `vendor_legal_address` reads it.
    vendor_address: str = "117312, г. Москва, ул. Вавилова, д. 19"
    # The postal address (почтовый адрес); empty: the legal address.
    vendor_postal_address: str = ""
    # ОГРН (13 digits, an organisation) or ОГРНИП (15, an individual entrepreneur), checked
    # against the INN. Empty: not set; set, the documents print it.
    vendor_ogrn: str = ""
    # The vendor's EDO participant id (идентификатор участника ЭДО, "2BM-…", from its EDO
    # operator): the sender in a УПД XML file's name. Empty: no XML files (409 edo_id_missing).
    vendor_edo_id: str = ""
    # osno: the general system, VAT on sales; usn: the simplified one, no VAT (the
    # documents say USN_VAT_NOTE where an invoice has no VAT; pricing still follows the
    # catalog, docs/documents.md "What prints where").
    vendor_tax_system: Literal["osno", "usn"] = "osno"
    vendor_bank: str = "ПАО Сбербанк"
    vendor_bik: str = "044525225"
    vendor_correspondent_account: str = "30101810400000000225"
    vendor_account: str = "40702810938000000001"
    vendor_director: str = "Иванов И. И."
    vendor_director_position: str = "Генеральный директор"
    vendor_accountant: str = "Петрова А. С."
    vendor_accountant_position: str = "Главный бухгалтер"
    # Signing by proxy (по доверенности): the person, their position and the power of
    # attorney's number and date, all four or none. Set: this person signs for the director.
    vendor_proxy_signer: str = ""
    vendor_proxy_position: str = ""
    vendor_proxy_number: str = ""
    vendor_proxy_date: date | None = None
    # The Ed25519 private key (PEM) that signs the license files of on-premise accounts
    # (docs/licenses.md). Created by `podpiska init` or `podpiska license keygen`; in
    # production it is never created on the fly: a missing key is an error.
    license_key: Path = Path("var/license-signing.pem")

    @model_validator(mode="after")
    def _public_url_follows_the_server(self) -> Settings:
        if not self.public_url:
            self.public_url = served_url(self.host, self.port)
        return self

    @property
    def vendor_legal_address(self) -> str:
        return self.vendor_address

    @property
    def vendor_mailing_address(self) -> str:
        """The postal address, or the legal one when none is set."""
        return self.vendor_postal_address or self.vendor_address

    @property
    def vendor_vat_note(self) -> str | None:
        """What the documents say instead of VAT for a simplified-system vendor, else None."""
        return USN_VAT_NOTE if self.vendor_tax_system == "usn" else None

    @property
    def vendor_signs_by_proxy(self) -> bool:
        return bool(self.vendor_proxy_signer)

    @model_validator(mode="after")
    def _vendor_requisites(self) -> Settings:
        for name in (
            "vendor_inn",
            "vendor_kpp",
            "vendor_ogrn",
            "vendor_bik",
            "vendor_account",
            "vendor_correspondent_account",
        ):
            setattr(self, name, getattr(self, name).strip().upper())
        problem = vendor_requisites_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if not self.secret_key:
            if self.env == "production":
                raise ValueError(
                    f"PODPISKA_SECRET_KEY must be set in production "
                    f"(a random value of at least {MIN_SECRET_LENGTH} characters)"
                )
            self.secret_key = DEVELOPMENT_SECRET if self.env == "development" else _TEST_SECRET
        elif self.env != "development":
            weakness = secret_weakness(self.secret_key)
            if weakness:
                raise ValueError(f"PODPISKA_SECRET_KEY {weakness} (PODPISKA_ENV={self.env})")
        if self.env == "production" and self.gateway == "sandbox":
            raise ValueError(
                "PODPISKA_GATEWAY=sandbox takes test cards: production needs "
                "PODPISKA_GATEWAY=yookassa"
            )
        if (
            self.env == "production"
            and self.gateway == "yookassa"
            and not (self.yookassa_shop_id and self.yookassa_secret_key)
        ):
            raise ValueError(
                "PODPISKA_YOOKASSA_SHOP_ID and PODPISKA_YOOKASSA_SECRET_KEY must be set "
                "when PODPISKA_GATEWAY=yookassa"
            )
        return self


# The vendor's requisites as one-line texts and their longest length.
_VENDOR_LINES = {
    "vendor_name": 300,
    "vendor_address": MAX_ADDRESS,
    "vendor_postal_address": MAX_ADDRESS,
    "vendor_director": 200,
    "vendor_director_position": 200,
    "vendor_accountant": 200,
    "vendor_accountant_position": 200,
    "vendor_proxy_signer": 200,
    "vendor_proxy_position": 200,
    "vendor_proxy_number": 100,
}
_PROXY = ("vendor_proxy_signer", "vendor_proxy_position", "vendor_proxy_number")


def vendor_requisites_problem(settings: Settings) -> str | None:
    """What is wrong with the vendor's requisites, naming the variable, or None."""
    for name, limit in _VENDOR_LINES.items():
        problem = line_problem(getattr(settings, name), limit)
        if problem:
            return f"{_variable(name)}: {problem.en}"
    inn = settings.vendor_inn.strip() or None
    checks = (
        ("vendor_inn", inn and inn_problem(inn)),
        ("vendor_kpp", settings.vendor_kpp and kpp_problem(settings.vendor_kpp, inn)),
        ("vendor_ogrn", settings.vendor_ogrn and ogrn_problem(settings.vendor_ogrn, inn)),
        ("vendor_edo_id", settings.vendor_edo_id and edo_id_problem(settings.vendor_edo_id)),
        ("vendor_bik", settings.vendor_bik and bik_problem(settings.vendor_bik)),
        (
            "vendor_account",
            settings.vendor_account
            and bank_account_problem(settings.vendor_account, settings.vendor_bik or None),
        ),
        (
            "vendor_correspondent_account",
            settings.vendor_correspondent_account
            and correspondent_account_problem(
                settings.vendor_correspondent_account, settings.vendor_bik or None
            ),
        ),
    )
    for name, found in checks:
        if found:
            return f"{_variable(name)}={getattr(settings, name)!r}: {found.en}"
    for account in our_bank_accounts(settings):
        if len(account) != ACCOUNT_LENGTH or not account.isascii() or not account.isdigit():
            return (
                f"{_variable('bank_accounts')}: {account!r} is not a bank account "
                f"({ACCOUNT_LENGTH} digits)"
            )
    given = [name for name in _PROXY if getattr(settings, name).strip()]
    if settings.vendor_proxy_date is not None:
        given.append("vendor_proxy_date")
    if given and len(given) != len(_PROXY) + 1:
        missing = [n for n in (*_PROXY, "vendor_proxy_date") if n not in given]
        return (
            f"signing by proxy needs the person, the position, the number and the date: "
            f"{', '.join(_variable(n) for n in missing)} not set"
        )
    return None


def _variable(name: str) -> str:
    return f"PODPISKA_{name.upper()}"


def secret_weakness(secret: str) -> str | None:
    """Why a secret is unsafe outside development, or None."""
    if secret == DEVELOPMENT_SECRET:
        return "is the development secret, which is public"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"must be a random value of at least {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return (
            f"repeats {len(set(secret))} character(s): use a random value "
            f"(at least {MIN_SECRET_DISTINCT} different characters)"
        )
    return None


def served_url(host: str, port: int) -> str:
    """The URL at which a server listening on `host`:`port` is reached from this machine."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def load_settings() -> Settings:
    return Settings()


def our_bank_accounts(settings: Settings) -> frozenset[str]:
    return frozenset(a.strip() for a in settings.bank_accounts.split(",") if a.strip())


def worker_in_process(settings: Settings) -> bool:
    if settings.worker == "auto":
        return settings.database_url.startswith("sqlite")
    return settings.worker == "inprocess"
