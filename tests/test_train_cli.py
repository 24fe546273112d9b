"""`corpus train` as a user meets it before any training: the install line for the train extra
fits the install, bad input fails in a second without torch or a run folder, and a Hub that
cannot be reached is a network error (exit 1) with what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from corpus.errors import BadInputError, CorpusError, ExitCode
from corpus.install import (
    TORCH_CPU_INDEX,
    Install,
    detect_install,
    extra_install_command,
)
from tests.tui_fixtures import make_tui_dataset

ROOT = Path(__file__).resolve().parent.parent


def test_a_checkout_installs_the_extra_editable_with_its_constraints(tmp_path: Path) -> None:
    (tmp_path / "constraints.txt").write_text("torch==2.13.0\n")
    co = Install("checkout", tmp_path)
    cpu = extra_install_command("train", co, gpu=False, python="/v/bin/python")
    assert cpu == (
        f"/v/bin/python -m pip install -c {tmp_path}/constraints.txt --index-url "
        f"{TORCH_CPU_INDEX} torch && /v/bin/python -m pip install -c "
        f"{tmp_path}/constraints.txt -e '{tmp_path}[train]'"
    )
    gpu = extra_install_command("train", co, gpu=True, python="/v/bin/python")
    assert "--index-url" not in gpu and f"-e '{tmp_path}[train]'" in gpu
    wheel = extra_install_command("train", Install("wheel"), gpu=True, python="python3")
    assert wheel == "python3 -m pip install torch && python3 -m pip install 'rustdoc-corpus[train]'"
    cpu_wheel = extra_install_command("train", Install("wheel"), gpu=False, python="python3")
    assert f"--index-url {TORCH_CPU_INDEX} torch" in cpu_wheel and "-c " not in cpu_wheel


def test_every_extra_gets_the_install_line_of_this_install(tmp_path: Path) -> None:
    # Regression: eval, serve and the Ray executor printed `pip install torch && pip install
    # 'rustdoc-corpus[train]'` even in a git checkout.
    (tmp_path / "constraints.txt").write_text("torch==2.13.0\n")
    co = Install("checkout", tmp_path)
    for extra in ("eval", "ray"):
        line = extra_install_command(extra, co, gpu=False, python="py")
        assert line == f"py -m pip install -c {tmp_path}/constraints.txt -e '{tmp_path}[{extra}]'"
    both = extra_install_command("train,serve", co, gpu=False, python="py")
    assert both.startswith("py -m pip install -c") and "torch &&" in both
    assert both.endswith(f"-e '{tmp_path}[train,serve]'")
    sources = [p for d in ("corpus", "pipelines", "tui") for p in (ROOT / d).rglob("*.py")]
    hard_coded = [p for p in sources if "install 'rustdoc-corpus[" in p.read_text()]
    assert not hard_coded, hard_coded


def test_this_environment_is_detected_as_a_checkout(tmp_path: Path) -> None:
    assert detect_install() == Install("checkout", ROOT)
    site = tmp_path / "site-packages" / "corpus"  # a wheel's copy: no source tree around it
    site.mkdir(parents=True)
    assert detect_install(site) == Install("wheel")


def test_the_missing_extra_message_carries_the_command_for_this_install(capsys) -> None:
    from corpus.commands.train import require_modules

    with pytest.raises(typer.Exit) as err:
        require_modules(("torch", "no_such_training_module_xyz"))
    assert err.value.exit_code == ExitCode.BAD_INPUT
    message = " ".join(capsys.readouterr().err.split())
    assert "no_such_training_module_xyz not installed" in message
    assert "this git checkout" in message and "constraints.txt" in message and "-e " in message


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # Reports, on stderr, whether torch was imported by the time the command exited.
    code = (
        "import sys\nfrom corpus.cli import main\nsys.argv = ['corpus', *sys.argv[1:]]\n"
        "try:\n    main()\nfinally:\n    print('torch imported:', 'torch' in sys.modules, "
        "file=sys.stderr)\n"
    )
    import os

    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, **env}, timeout=120)  # fmt: skip


def test_bad_input_fails_before_torch_and_leaves_no_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    for args, message in (
        (["train", "--out", str(out)], "no dataset: pass --data DIR"),
        (["train", "--data", str(tmp_path / "nope"), "--out", str(out)], "no such local dataset"),
        (["train", "--data", str(tmp_path), "--out", str(out)], "no dataset here"),
        (
            [
                "train",
                "--data",
                str(make_tui_dataset(tmp_path, 5)),
                "--model",
                str(tmp_path),
                "--out",
                str(out),
            ],
            "not a model directory",
        ),
        (
            [
                "train",
                "--data",
                str(make_tui_dataset(tmp_path / "mix", 5)),
                "--out",
                str(out),
                "--set",
                'mixture={"no-such/repo": 0.5}',
            ],
            "mixture names no-such/repo, not in the training data",
        ),
    ):
        res = _run(args, tmp_path)
        assert res.returncode == ExitCode.BAD_INPUT, res.stderr
        assert message in res.stderr and "Traceback" not in res.stderr
        assert "torch imported: False" in res.stderr
        assert not out.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_hub_is_a_network_error_with_the_way_out() -> None:
    from pipelines.train.model import is_network_error, load_error

    refused: OSError | None = None
    try:
        socket.create_connection(("127.0.0.1", _closed_port()), timeout=2)
    except OSError as exc:  # a real refused connection, as the Hub client meets it offline
        refused = exc
    assert isinstance(refused, ConnectionRefusedError)
    wrapped = OSError("We couldn't load the files for this model")
    wrapped.__cause__ = refused
    assert is_network_error(wrapped) and is_network_error(refused)
    err = load_error("Qwen/Qwen2.5-Coder-0.5B-Instruct", "tokenizer", wrapped)
    assert type(err) is CorpusError and err.exit_code == ExitCode.FAILURE
    assert "cannot download the tokenizer" in str(err)
    assert "--model DIR" in str(err) and "HF_HUB_OFFLINE=1" in str(err)
    missing = OSError("Qwen/nope is not a local folder and is not a valid model identifier")
    bad = load_error("Qwen/nope", "model", missing)
    assert isinstance(bad, BadInputError) and bad.exit_code == ExitCode.BAD_INPUT


def test_a_load_error_is_one_line_and_knows_when_offline_is_already_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: the message embedded transformers' multi-line text and advised setting
    # HF_HUB_OFFLINE=1 when it was already set.
    from pipelines.train.model import load_error

    exc = OSError("We couldn't connect to 'https://huggingface.co'.\nCheck your connection\n\nor")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    err = load_error("Qwen/Nope", "model", exc)
    assert "\n" not in str(err) and "HF_HUB_OFFLINE=1" in str(err)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err = load_error("Qwen/Nope", "model", exc)
    assert type(err) is CorpusError and "\n" not in str(err)
    assert "not in the Hugging Face cache and HF_HUB_OFFLINE is set" in str(err)
    assert "--model DIR" in str(err) and "set HF_HUB_OFFLINE=1" not in str(err)


def test_quant_report_of_an_unreachable_model_exits_1_with_the_way_out(tmp_path: Path) -> None:
    # Regression: every load error of quant-report (and export) was bad input (exit 2).
    proc = subprocess.run(
        [sys.executable, "-m", "corpus.cli", "train", "quant-report", "--model", "Qwen/Nope-0.5B",
         "--out", str(tmp_path / "q")],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1",
                                             "HF_HOME": str(tmp_path / "hf")},
    )  # fmt: skip
    assert proc.returncode == ExitCode.FAILURE, proc.stderr
    assert "HF_HUB_OFFLINE is set" in proc.stderr and "--model DIR" in proc.stderr
