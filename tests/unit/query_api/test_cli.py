"""CLI pieces that need no server: SSE parsing, the progress bar, generator specs."""

import io

import pytest

from cli.__main__ import UsageError, build_parser, main, parse_generator
from cli.client import parse_sse
from cli.progress import ProgressBar, format_eta, render_bar


def test_parse_sse_events_and_ids():
    lines = ["event: snapshot", "id: 3.-1", 'data: {"status": "running"}', "", ": keep-alive", "",
             "event: progress", 'data: {"fraction": 0.5}', ""]

    events = list(parse_sse(iter(lines)))

    assert events == [("snapshot", "3.-1", {"status": "running"}), ("progress", None, {"fraction": 0.5})]


def test_render_bar_half_done():
    line = render_bar(0.5, 75, "factor", "running")

    assert line.startswith("[" + "#" * 15 + "." * 15 + "]")
    assert " 50.0%" in line
    assert "ETA 01:15" in line
    assert line.endswith("running (factor)")


def test_format_eta_hours_and_unknown():
    assert format_eta(3725) == "ETA 1:02:05"
    assert format_eta(None) == "ETA --"


def test_progress_bar_reports_final_status():
    stream = io.StringIO()
    bar = ProgressBar(stream)

    assert bar.show("snapshot", {"status": "running", "progress": 0.1}) is None
    assert bar.show("progress", {"fraction": 0.6, "eta_s": 2}) is None
    assert bar.show("status", {"status": "completed"}) == "completed"
    assert "100.0%" in stream.getvalue().split("\r")[-1]


def test_parse_generator_spec():
    assert parse_generator("random_dense:3000:7") == {"kind": "random_dense", "n": 3000, "seed": 7}
    assert parse_generator("poisson2d:64") == {"kind": "poisson2d", "n": 64, "seed": 0}


@pytest.mark.parametrize("value", ["random_dense", "nonsense:3", "hilbert:x", "hilbert:3:4:5"])
def test_parse_generator_rejects(value):
    with pytest.raises(UsageError, match="KIND:N"):
        parse_generator(value)


def test_parser_knows_every_command():
    parser = build_parser()

    task = "0b7e6f3a-5f7c-4f1e-9d2a-3c4b5a6d7e8f"
    for argv in (["login", "a@b.org"], ["submit", "--generate", "hilbert:5"], ["watch", task], ["cancel", task],
                 ["list", "--status", "completed", "--since", "2026-12-01"], ["download", task, "--format", "mtx"],
                 ["me"], ["show", task]):
        assert parser.parse_args(argv).command == argv[0]


@pytest.mark.parametrize(("argv", "expected"), [
    (["show", "0b7e6f3a"], "'0b7e6f3a' is not a task id"),
    (["download", "x-1", "--format", "csv"], "'x-1' is not a task id"),
    (["list", "--since", "yesterday"], "'yesterday' is not an ISO 8601 date or time"),
    (["register", "not-an-email"], "'not-an-email' is not an e-mail address"),
])
def test_parser_rejects_bad_values(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)

    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "expected"), [
    (["submit", "a.mtx"], "the right-hand side is missing: pass --b FILE"),
    (["submit", "--b", "b.mtx"], "the matrix A is missing"),
    (["submit", "a.mtx", "--b", "b.mtx", "--generate", "hilbert:5"], "not both"),
    (["submit"], "nothing to submit"),
    (["--cacert", "/nonexistent/ca.pem", "me"], "--cacert /nonexistent/ca.pem: no such file"),
])
def test_submit_and_cacert_errors_name_the_fix(argv, expected, capsys, tmp_path):
    status = main(["--config-dir", str(tmp_path), *argv])

    assert status == 1
    assert expected in capsys.readouterr().err
