"""Foundation: what every layer may use. Settings (read once from the environment and the
data directory), structured logs, one-line-per-minute trouble logs, the rules for text strangers
send, and the crash points the fault tests use. Imports nothing of the hotline."""
