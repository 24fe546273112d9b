"""`corpus train export`: a run folder -> GGUF files + an Ollama Modelfile + the commands to run
them (``ollama create``, ``llama-cli``, ``llama-server``).

The export folder (default ``RUN/gguf``) is written whole or not at all:

- merged (default): ``<name>-<outtype>.gguf`` — the adapter merged into its base
  (dequantize-then-merge for a 4-bit run, as ``corpus train merge`` says), in fp32, then
  written in ``outtype``; a k-quant is made by llama-quantize from an f16 file;
- ``--lora-only``: ``<name>-lora-<outtype>.gguf`` (the adapter) and ``base-<outtype>.gguf`` (the
  base it applies to; skipped with ``--base-gguf FILE``, which the Modelfile then names);
- ``Modelfile``: FROM (+ ADAPTER), the ChatML TEMPLATE, SYSTEM = the training system prompt,
  stop tokens, temperature 0, context length.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import BadInputError

MODELFILE = "Modelfile"


@dataclass
class ExportResult:
    """What was written, how, and the commands that run it."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    base_gguf: Path | None = None  # --base-gguf: the base file named, not written
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


def resolve_source(run: Path) -> tuple[Path | None, Path | None]:
    """(adapter folder, merged model folder): a run folder (RUN/adapter), an adapter folder,
    or a merged model folder (config.json, no adapter_config.json)."""
    run = Path(run)
    if (run / "adapter" / "adapter_config.json").is_file():
        return run / "adapter", None
    if (run / "adapter_config.json").is_file():
        return run, None
    if (run / "config.json").is_file():
        return None, run
    raise BadInputError(f"{run}: not a run folder, an adapter folder or a model folder")


def model_name(run: Path, given: str | None) -> str:
    """The Ollama model name: ``--name``, else ``rustdoc-<run folder>``."""
    from corpus.commands._adapters import default_name

    name = given or f"rustdoc-{default_name(Path(run).resolve())}"
    if not all(c.isalnum() or c in "._-" for c in name) or not name[0].isalnum():
        raise BadInputError(f"--name {name!r}: use letters, digits, '.', '_' or '-'")
    return name.lower()


def _base_config(adapter: Path | None, merged: Path | None, model: str | None) -> Any:
    from transformers import AutoConfig

    from pipelines.train.gguf import check_architecture
    from pipelines.train.merge import adapter_base

    src = str(merged) if merged is not None else (model or adapter_base(adapter))  # type: ignore[arg-type]
    from pipelines.train.model import load_error

    try:
        cfg = AutoConfig.from_pretrained(src)
    except OSError as exc:
        raise load_error(src, "model's config", exc) from exc
    check_architecture(cfg)
    return cfg


def _recipe(adapter: Path | None) -> tuple[str, int]:
    """(system prompt, context length) the model was trained with."""
    from corpus.prompt import SYSTEM_PROMPT
    from pipelines.train.inference import adapter_config

    cfg = adapter_config(adapter) if adapter is not None else None
    if cfg is None:
        return SYSTEM_PROMPT, 4096
    return cfg.system_prompt, max(4096, cfg.max_length)


def _load_full(
    adapter: Path | None,
    merged: Path | None,
    model: str | None,
    base_weights: str,
    base_only: bool = False,
) -> tuple[Any, Any, str]:
    """(fp32 model, tokenizer, how it was made): merged, a merged folder, or the bare base."""
    import torch
    from transformers import AutoModelForCausalLM

    from pipelines.train.merge import adapter_base, merged_model, tokenizer_source
    from pipelines.train.model import load_tokenizer

    if merged is not None:
        m = AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32)
        return m, load_tokenizer(str(merged)), f"exported the model in {merged}"
    assert adapter is not None
    tok = load_tokenizer(tokenizer_source(adapter, model))
    if base_only:
        base = model or adapter_base(adapter)
        m = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
        return m, tok, f"exported the base {base}"
    m, how = merged_model(
        adapter, model=model, dtype="float32", device="cpu", base_weights=base_weights
    )
    return m, tok, how


def _write_full(model: Any, tok: Any, dest: Path, outtype: str, tool: str | None, name: str) -> str:
    """One model GGUF at ``dest`` (through an f16 file and llama-quantize for k-quants)."""
    from pipelines.train.gguf import quantize_file, write_model_gguf

    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        if tool is None:
            counts = write_model_gguf(model, tok, Path(tmp), dest, outtype, name)
            return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + " tensors"
        f16 = Path(tmp) / "f16.gguf"
        write_model_gguf(model, tok, Path(tmp), f16, "f16", name)
        quantize_file(tool, f16, dest, outtype)
        return f"quantised to {outtype.upper()} by {Path(tool).name}"


def export_gguf(
    run: Path,
    out: Path | None = None,
    *,
    outtype: str = "f16",
    lora_only: bool = False,
    name: str | None = None,
    model: str | None = None,
    base_gguf: Path | None = None,
    base_weights: str = "original",
) -> ExportResult:
    """Export ``run`` as GGUF + Modelfile into ``out`` (default RUN/gguf), swapped in whole."""
    from corpus.store import swap_dir
    from pipelines.train.gguf import check_lora_for_gguf, check_outtype

    adapter, merged = resolve_source(run)
    tool = check_outtype(outtype, lora_only=lora_only)
    if lora_only and adapter is None:
        raise BadInputError(f"--lora-only: {run} holds a merged model, not an adapter")
    if lora_only:
        check_lora_for_gguf(adapter)  # type: ignore[arg-type]
    if base_gguf is not None and not (lora_only and Path(base_gguf).is_file()):
        raise BadInputError("--base-gguf FILE goes with --lora-only and must exist")
    cfg = _base_config(adapter, merged, model)
    folder = Path(out) if out is not None else Path(run) / "gguf"
    slug = model_name(run, name)
    res = ExportResult(folder, base_gguf=Path(base_gguf).resolve() if base_gguf else None)

    def fill(tmp: Path) -> None:
        if lora_only:
            _fill_lora(tmp, res, adapter, model, outtype, slug, cfg, base_gguf)  # type: ignore[arg-type]
        else:
            m, tok, how = _load_full(adapter, merged, model, base_weights)
            f = tmp / f"{slug}-{outtype}.gguf"
            res.notes += [how, _write_full(m, tok, f, outtype, tool, slug)]
            res.files.append(f)
        _modelfile(tmp, res, adapter)

    swap_dir(folder, fill)
    res.files = [folder / f.name for f in res.files]
    res.commands = run_commands(res, slug, adapter)
    return res


def _fill_lora(
    tmp: Path,
    res: ExportResult,
    adapter: Path,
    model: str | None,
    outtype: str,
    slug: str,
    cfg: Any,
    base_gguf: Path | None,
) -> None:
    from pipelines.train.gguf import write_lora_gguf

    lora = tmp / f"{slug}-lora-{outtype}.gguf"
    n = write_lora_gguf(adapter, lora, outtype, cfg.num_hidden_layers)
    res.notes.append(f"wrote the LoRA adapter alone ({n} tensors)")
    if base_gguf is None:
        m, tok, how = _load_full(adapter, None, model, "original", base_only=True)
        base = tmp / f"base-{outtype}.gguf"
        res.notes += [how, _write_full(m, tok, base, outtype, None, "base")]
        res.files.append(base)
    res.files.append(lora)


def _modelfile(tmp: Path, res: ExportResult, adapter: Path | None) -> None:
    from pipelines.train.modelfile import render

    system, ctx = _recipe(adapter)
    ggufs = [f.name for f in res.files]
    lora = next((g for g in ggufs if "-lora-" in g), None)
    base = next((g for g in ggufs if g != lora), None)
    # Paths beside the Modelfile are relative (Ollama reads them from its folder); a
    # --base-gguf file is named where it is.
    from_ = f"./{base}" if base else str(res.base_gguf)
    text = render(from_=from_, system=system, adapter=f"./{lora}" if lora else None, num_ctx=ctx)
    (tmp / MODELFILE).write_text(text, encoding="utf-8")
    res.files.append(tmp / MODELFILE)


def run_commands(res: ExportResult, slug: str, adapter: Path | None) -> list[str]:
    """How to run the export: Ollama, llama.cpp's CLI and its server."""
    system, ctx = _recipe(adapter)
    ggufs = [f for f in res.files if f.suffix == ".gguf"]
    lora = next((f for f in ggufs if "-lora-" in f.name), None)
    base = next((f for f in ggufs if f != lora), res.base_gguf)
    model_args = ["-m", str(base)]
    if lora is not None:
        model_args += ["--lora", str(lora)]
    q = shlex.join
    return [
        q(["ollama", "create", slug, "-f", str(res.folder / MODELFILE)]),
        q(["ollama", "run", slug]),
        q(
            [
                "llama-cli",
                *model_args,
                "-cnv",
                "--chat-template",
                "chatml",
                "-sys",
                system,
                "--temp",
                "0",
                "-c",
                str(ctx),
            ]
        ),
        q(
            [
                "llama-server",
                *model_args,
                "--chat-template",
                "chatml",
                "--host",
                "127.0.0.1",
                "--port",
                "8080",
                "-c",
                str(ctx),
            ]
        ),
    ]
