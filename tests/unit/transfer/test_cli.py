"""``shinsei-transfer``'s own commands (keygen, verify, inspect): what they refuse."""

import pytest


@pytest.mark.parametrize("origin", ["142158:prd", "142158", ":test"])
def test_verify_refuses_an_origin_no_snapshot_can_carry(origin, capsys):
    """``shinsei-transfer verify --origin``: the shape checked as the settings check it."""
    from transfer import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["verify", "--trusted-keys", "/none.pub", "--origin", origin, "/none.bin"])
    assert stopped.value.code == 2
    assert f"団体コード:prod または 団体コード:test です（{origin!r}）" in capsys.readouterr().err
