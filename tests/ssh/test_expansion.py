"""In SSH mode a line goes to the remote shell: an opsh variable's value is one literal word
there, never a command substitution or a second command."""

from __future__ import annotations

HOSTILE = "$(touch {d}/F)`touch {d}/F`; touch {d}/F"


def test_a_variable_in_ssh_mode_is_text_on_the_host(sh, ssh_client, remote_dir):
    sh.ok("connect web01")
    value = HOSTILE.format(d=remote_dir)
    sh.session.set_variable("x", value)
    assert sh.ok("printf '%s\\n' ${x}").text == value + "\n"
    assert sh.ok("printf '%s\\n' \"${x}\"").text == value + "\n"
    assert not (remote_dir / "F").exists()
    assert sh.ok("echo \\${HOME}").text.startswith("/home/")  # the remote shell's own variable
