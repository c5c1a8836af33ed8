"""The web application: the customer's portal and the vendor's back office (docs/web.md)."""
