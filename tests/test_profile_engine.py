"""The profiling command the README's breakdown of a frame comes from."""

from __future__ import annotations

import pytest

from benchmarks import profile_engine


def test_it_profiles_a_route_and_lists_the_callers_asked_for(capsys):
    profile_engine.main(["--size", "256", "--route", "stream", "--frames", "2", "--top", "5",
                         "--callers", "paint_layers"])
    out = capsys.readouterr().out
    assert "stream at 256:" in out and "ms a frame under the profiler" in out
    assert "was called by" in out and "paint_layers" in out


@pytest.mark.parametrize("argv, says", [
    (["--size", "1080p-720p-people", "--route", "stream-moving"], "no 1080p-720p-people scene"),
    (["--frames", "0"], "--frames must be at least 1"),
    (["--profiler", "torch"], "use cProfile there"),
])
def test_it_refuses_what_it_cannot_profile(capsys, argv, says):
    with pytest.raises(SystemExit):
        profile_engine.main(argv)
    assert says in capsys.readouterr().err
