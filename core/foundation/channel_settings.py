"""The channels' settings: e-mail, SMS, Telegram, web chat, the phone line, speech, fax and
Open311. ``Settings`` (in ``settings``) adds the hotline's own to these; field docs are what
``hotline check`` prints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def http_address(value: str) -> str:
    """``value`` unchanged if empty or an http(s) address with a host; else why not."""
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ValueError("must be an http:// or https:// address")
    return value


class ChannelSettings(BaseSettings):
    """How the hotline reaches and is reached by each channel."""

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", extra="ignore", env_file_encoding="utf-8"
    )

    mail_address: str = Field(
        "", description="the hotline's own e-mail address: the From of every answer"
    )
    mail_name: str = Field("市民服务热线 Civic Hotline", description="the name shown with it")
    smtp_url: str = Field(
        "",
        repr=False,
        description="where answers are sent: smtp://user:password@host:587 (STARTTLS when the"
        " server offers it), smtps://...:465, or smtp://host:25; empty: no e-mail out",
    )
    imap_public_url: str = Field(
        "",
        repr=False,
        description="the public mailbox: imaps://user:password@host:993/INBOX (imap:// for"
        " plain); its messages become cases",
    )
    imap_director_url: str = Field(
        "", repr=False, description="the director's mailbox (letters to the director), as above"
    )
    imap_fax_url: str = Field(
        "", repr=False, description="the fax-to-mail mailbox of the fax gateway, as above"
    )
    mail_trace_days: int = Field(
        90,
        ge=1,
        description="days ignored mail (auto-replies, lists, reports) and duplicates stay"
        " listed for staff before they are purged",
    )
    sms_shared_secret: str = Field(
        "",
        repr=False,
        description="the secret Kannel's get-url carries (?secret=...); empty: SMS in is off",
    )
    sms_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="addresses Kannel's smsbox may call from, comma-separated CIDR; empty: any",
    )
    sms_per_number_per_hour: int = Field(
        30, ge=1, description="texts one phone number may send in an hour before they are dropped"
    )
    sms_sendsms_url: str = Field(
        "",
        repr=False,
        description="Kannel's sendsms interface with its user:"
        " http://user:password@127.0.0.1:13013/cgi-bin/sendsms; empty: no SMS out",
    )
    sms_sender: str = Field("12345", description="the number answers are sent from (short code)")
    sms_max_parts: int = Field(
        6, ge=1, le=20, description="parts a long answer may take; longer answers are cut"
    )
    telegram_token: str = Field(
        "", repr=False, description="the bot's token from @BotFather; empty: Telegram is off"
    )
    telegram_webhook_secret: str = Field(
        "",
        repr=False,
        description="webhook mode: the secret_token given to setWebhook, checked on every call;"
        " empty: the bot polls getUpdates instead",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org",
        description="the Bot API server (a local telegram-bot-api server, or a test stand-in)",
    )
    webchat_office_hours_only: bool = Field(
        True,
        description="web chat takes live conversations on working days in office hours only;"
        " outside them a chat becomes a message answered later",
    )
    webchat_posts_per_minute: int = Field(
        60, ge=1, description="chat lines (and chats begun) one address may send in a minute"
    )
    webchat_wait_seconds: int = Field(
        120, ge=10, description="how long a chat waits for an agent before it is kept as a message"
    )
    phone_engine: Literal["", "baresip"] = Field(
        "", description="the SIP/RTP engine of the phone line; empty: no phone line"
    )
    phone_sip_listen: str = Field(
        "0.0.0.0:5060", description="where the phone line takes SIP calls (address:port)"
    )
    phone_numbers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["12345"],
        description="the numbers the line answers (the called number in the SIP request),"
        " comma-separated",
    )
    phone_softphone_ws: str = Field(
        "",
        description="where the agents' browser softphones reach the registrar (Kamailio, SIP over"
        " WebSocket; address:port); empty: no softphones, calls go to desk phones only",
    )
    phone_softphone_url: str = Field(
        "",
        description="the WebSocket URL the agents' browsers open (e.g. wss://... behind the"
        " site's TLS proxy); empty: ws://<phone_softphone_ws>",
    )
    phone_softphone_sip: str = Field(
        "127.0.0.1:5070",
        description="where the softphones' registrar takes the callers the line puts through"
        " (SIP over UDP, address:port)",
    )
    phone_media_address: str = Field(
        "127.0.0.1",
        description="the address the media relay (rtpengine) uses, reached by callers' phones"
        " and agents' browsers",
    )
    phone_media_ports: str = Field(
        "40000-40999", description="the media relay's UDP port range (first-last)"
    )
    phone_turn_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="TURN servers the agents' browsers relay their media through when they are"
        " behind NAT (e.g. turn:turn.example.gov:3478, comma-separated); empty: none",
    )
    phone_turn_secret: str = Field(
        "",
        repr=False,
        description="the TURN servers' shared secret (coturn's static-auth-secret): each agent"
        " gets a credential made with it, valid one shift; empty: <data dir>/turn_secret",
    )
    phone_turn_only: bool = Field(
        False,
        description="the agents' browsers send their media through TURN only (for networks that"
        " let nothing else out)",
    )
    phone_call_recording: Literal["split", "mixed", "off"] = Field(
        "split",
        description="live calls through the softphones' relay are recorded and put on the case:"
        " split (the caller left, the agent right: each party transcribed apart), mixed (one"
        " channel), off",
    )
    phone_trunk: str = Field(
        "",
        description="the SIP trunk (SBC) that places calls to outside numbers, host:port; an agent"
        " may transfer a caller to an outside number through it; empty: no outside transfers",
    )
    phone_abandoned_callback: bool = Field(
        True,
        description="a caller who hangs up while waiting for an agent, with a known number,"
        " gets a call-back request in the queue",
    )
    speech_models_dir: Path | None = Field(
        None,
        description="speech models, one folder per language (zh_CN, en, fr...);"
        " default: <data dir>/speech-models",
    )
    whisper_model_dir: Path | None = Field(
        None,
        description="a CTranslate2 Whisper model folder (small, medium...) to use instead of"
        " the whisper-base model built by `hotline speech install whisper-base`",
    )
    whisper_compute_type: str = Field(
        "int8", description="CTranslate2 compute type for Whisper: int8, int8_float32, float32"
    )
    whisper_beam_size: int = Field(
        5, ge=1, le=10, description="Whisper beam size (1: greedy, ~5 % less CPU, more errors)"
    )
    whisper_zh_prompt: Literal["none", "vocabulary", "instruction"] = Field(
        "none",
        description="Whisper's initial prompt for Chinese: none (measured best: CER 0.119 at"
        " 16 kHz, 0.107 at 8 kHz; the city's names are put right afterwards), vocabulary (the"
        " city's names: 0.125, 0.144), instruction (a sentence asking for Simplified Chinese"
        " and punctuation, then the names: 0.147, 0.129; punctuates every transcript)",
    )
    whisper_threads: int = Field(
        1, ge=1, le=64, description="CPU threads per transcription (one each, two at once: fastest)"
    )
    whisper_vad: bool = Field(
        True, description="skip silence with the engine's voice activity detection"
    )
    speech_concurrency: int = Field(
        2, ge=1, le=32, description="transcriptions run at once (each uses whisper_threads)"
    )
    speech_split_seconds: int = Field(
        600,
        ge=30,
        le=7200,
        description="recordings longer than this are transcribed in parts of this length",
    )
    fax_spool_dir: str = Field(
        "", description="a folder a fax server drops received faxes in (TIFF or PDF); empty: none"
    )
    open311_retry_minutes: int = Field(
        10,
        ge=1,
        le=1440,
        description="an Open311 app posting the identical request again within this many"
        " minutes gets the first request's id back (a retry), not a second request",
    )

    @field_validator("imap_public_url", "imap_director_url", "imap_fax_url")
    @classmethod
    def _imap_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("imap", "imaps") or not parts.hostname):
            raise ValueError("must be imaps://user:password@host/FOLDER (or imap:// on loopback)")
        if value and not parts.username:
            raise ValueError("names no mailbox user (imaps://user:password@host/)")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("smtp", "smtps") or not parts.hostname):
            raise ValueError("must be smtp://user:password@host:587 or smtps://...:465")
        return value

    @field_validator("sms_sendsms_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_address(value)

    @field_validator("phone_numbers")
    @classmethod
    def _dialled(cls, value: list[str]) -> list[str]:
        for number in value:
            if not re.fullmatch(r"[0-9A-Za-z+*#._-]{1,32}", number):
                raise ValueError(f"{number!r} is not a number the line can answer")
        return value or ["12345"]

    @field_validator("phone_turn_urls")
    @classmethod
    def _turn(cls, value: list[str]) -> list[str]:
        for url in value:  # RFC 7065: turn:host[:port][?transport=udp|tcp], turns: over TLS
            if not re.fullmatch(r"turns?:[A-Za-z0-9.\[\]:-]+(\?transport=(udp|tcp))?", url):
                raise ValueError(f"{url!r} is not a TURN address, e.g. turn:turn.example.gov:3478")
        return value

    @field_validator("phone_sip_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be address:port, e.g. 0.0.0.0:5060")
        return value
