"""The plugin host: hook specifications, the per-app plugin manager, built-in rule plugins."""
