"""The web channel: the portal's forms turned into submissions (being built)."""
