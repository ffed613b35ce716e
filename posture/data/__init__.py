"""Reference data shipped with posture (a package so that wheels carry its files)."""
