"""Podpiska: subscription licensing and billing for vendors of cloud business software."""

__version__ = "0.1.0"
