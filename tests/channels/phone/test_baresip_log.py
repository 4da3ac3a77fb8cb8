"""baresip's own log lines reach ours at debug level without a caller's number or name."""

from hotline.channels.phone.baresip_process import _redacted


def test_callers_are_not_in_our_log() -> None:
    incoming = "sip:12345@127.0.0.1:5060: Incoming call from: 张三 sip:+8613800138000@10.0.0.9"
    assert "13800138000" not in _redacted(incoming) and "张三" not in _redacted(incoming)
    established = "12345@127.0.0.1: Call established: sip:+8613800138000@10.0.0.9:5060"
    assert _redacted(established) == "12345@127.0.0.1: Call established: sip:***@10.0.0.9:5060"
    assert _redacted("audio: Set audio decoder: PCMU 8000Hz 1ch") == (
        "audio: Set audio decoder: PCMU 8000Hz 1ch"
    )
