"""The terminal plumbing of SSH mode that needs no server: the report cut out of a pty's one
output stream, OpenSSH's `~.` escape, the terminal modes sent with the pty request, and the
private paramiko calls the request relies on."""

from __future__ import annotations

import inspect
import struct
import termios

import paramiko

from opsh.commands.ssh.terminal import EscapeKeys, MarkerCut, encode_modes, locale_env

MARKER = b"__opsh_0123456789abcdef__"


def shown(cut: MarkerCut, *pieces: bytes) -> bytes:
    return b"".join(cut.feed(piece) for piece in pieces) + cut.flush()


def test_the_report_never_reaches_the_screen_wherever_the_pieces_break():
    stream = b"\x1b[?1049hfull screen\x1b[?1049l\r\nlast line" + MARKER + b" 0 /home/u\r\n"
    for cut_at in range(1, len(stream)):
        cut = MarkerCut(MARKER)
        assert shown(cut, stream[:cut_at], stream[cut_at:]) == stream[: stream.index(MARKER)]
        assert cut.report == b" 0 /home/u"


def test_bytes_like_the_start_of_the_marker_are_shown_once_they_turn_out_not_to_be():
    cut = MarkerCut(MARKER)
    assert cut.feed(b"price: __op") == b"price: "
    assert cut.feed(b"en__ 5\r\n") == b"__open__ 5\r\n"
    assert cut.report is None


def test_what_a_background_job_prints_after_the_report_is_shown():
    cut = MarkerCut(MARKER)
    cut.feed(MARKER + b" 3 /tmp\r\nlate")
    assert cut.report == b" 3 /tmp" and cut.feed(b" output\r\n") == b" output\r\n"


def test_the_alternate_screen_is_tracked_for_the_clean_up():
    cut = MarkerCut(MARKER)
    cut.feed(b"\x1b[?1049h\x1b[Hmenu")
    assert cut.alt_screen
    cut.feed(b"\x1b[?1049l")
    assert not cut.alt_screen


def test_tilde_dot_at_the_start_of_a_line_is_the_escape():
    keys = EscapeKeys()
    assert keys.feed(b"~.") == (b"", True)
    keys = EscapeKeys()
    assert keys.feed(b"ls\r") == (b"ls\r", False)
    assert keys.feed(b"~") == (b"", False)  # held: it may start the escape
    assert keys.feed(b".") == (b"", True)


def test_a_tilde_elsewhere_or_doubled_is_sent():
    keys = EscapeKeys()
    assert keys.feed(b"cd ~/x\r") == (b"cd ~/x\r", False)
    assert keys.feed(b"~~") == (b"~", False)
    assert keys.feed(b"~/bin\r") == (b"~/bin\r", False)


def _modes(encoded: bytes) -> dict[int, int]:
    """opcode -> value, as the server reads RFC 4254's encoding."""
    out, at = {}, 0
    while encoded[at] != 0:
        opcode, value = struct.unpack(">BI", encoded[at : at + 5])
        out[opcode] = value
        at += 5
    assert at == len(encoded) - 1
    return out


def test_the_local_erase_key_utf8_and_echo_go_with_the_pty_request():
    cc = [b"\x00"] * termios.NCCS
    cc[termios.VERASE], cc[termios.VINTR], cc[termios.VEOF] = b"\x08", b"\x03", b"\x04"
    iflag = termios.ICRNL | getattr(termios, "IUTF8", 0)
    lflag = termios.ECHO | termios.ICANON | termios.ISIG
    modes = _modes(encode_modes([iflag, termios.OPOST, termios.CS8, lflag, termios.B38400, termios.B9600, cc]))
    assert modes[3] == 8 and modes[1] == 3 and modes[5] == 4  # VERASE ^H, VINTR ^C, VEOF ^D
    assert modes[53] == 1 and modes[51] == 1 and modes[50] == 1  # ECHO, ICANON, ISIG
    assert modes[35] == 0 and modes[36] == 1  # IGNCR off, ICRNL on
    if hasattr(termios, "IUTF8"):
        assert modes[42] == 1
    assert modes[4] == 255  # VKILL unset here: "no character"
    assert modes[128] == 38400 and modes[129] == 9600


def test_the_locale_sent_is_what_sendenv_lang_lc_star_sends():
    environ = {"LANG": "de_DE.UTF-8", "LC_TIME": "C", "LC_ALL": "C.UTF-8", "LANGUAGE": "de", "TERM": "xterm"}
    assert locale_env(environ) == {"LANG": "de_DE.UTF-8", "LC_TIME": "C", "LC_ALL": "C.UTF-8"}


def test_paramiko_still_has_the_private_calls_its_own_get_pty_makes():
    """terminal.request_pty sends a pty-req with modes the way Channel.get_pty sends one
    without: if get_pty stops using these, request_pty must follow."""
    source = inspect.getsource(paramiko.Channel.get_pty)
    for call in ("self._event_pending()", "self.transport._send_user_message(m)", "self._wait_for_event()"):
        assert call in source
    assert callable(paramiko.Transport._send_user_message)


def test_the_prompt_gets_a_line_of_its_own_only_when_the_output_left_one_unfinished():
    assert MarkerCut(MARKER).last_byte == b"\n"
    cut = MarkerCut(MARKER)
    cut.feed(b"abc\x1b[0m")  # colours after the text do not end its line
    assert cut.last_byte == b"c"
    cut = MarkerCut(MARKER)
    cut.feed(b"before\r\n\x1b[?1049h\x1b[Hfull screen text\x1b[?1049l\x1b[?25h")
    assert cut.last_byte == b"\n"  # vim and less give the line before them back
