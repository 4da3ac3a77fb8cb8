"""The SMS channel (Kannel). So far: reading smsbox's calls (``inbound``) and splitting answers
into SMS parts (``outbound``); the HTTP endpoints, sending through sendsms, delivery reports
and the Kannel set-up come next (see the issue's note)."""
