"""Seamless wallet mode: the platform's callbacks to the integrator's wallet (spec 6)."""
