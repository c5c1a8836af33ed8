"""Settings: one class, read from `PODPISKA_*` environment variables (and `.env`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROJECT = Path(__file__).resolve().parents[2]


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
    secret_key: str = "development-only-secret"  # signs sessions and webhooks
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
    vendor_address: str = "117312, г. Москва, ул. Вавилова, д. 19"
    vendor_bank: str = "ПАО Сбербанк"
    vendor_bik: str = "044525225"
    vendor_correspondent_account: str = "30101810400000000225"
    vendor_account: str = "40702810938000000001"
    vendor_director: str = "Иванов И. И."
    vendor_accountant: str = "Петрова А. С."
    # The Ed25519 private key (PEM) that signs the license files of on-premise accounts
    # (docs/licenses.md). Created by `podpiska init` or `podpiska license keygen`; in
    # production it is never created on the fly: a missing key is an error.
    license_key: Path = Path("var/license-signing.pem")

    @model_validator(mode="after")
    def _public_url_follows_the_server(self) -> Settings:
        if not self.public_url:
            self.public_url = served_url(self.host, self.port)
        return self

    @model_validator(mode="after")
    def _safe_outside_development(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == "development-only-secret" or len(self.secret_key) < 32
        ):
            raise ValueError(
                "PODPISKA_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production"
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
