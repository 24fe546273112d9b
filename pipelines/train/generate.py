"""Write a rustdoc comment for one function with a trained adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import BadInputError


def find_function(path: Path, name: str) -> dict[str, Any]:
    """The function ``name`` in a Rust file, as a record-like dict (signature, source).

    Uses the project's extractor when it is importable; otherwise falls back to the parser and
    a lookup of ``function_item`` nodes by name.
    """
    data = Path(path).read_bytes()
    try:
        from corpus.extract import context_for, extract_file_bytes
    except ImportError:
        context_for = extract_file_bytes = None
    if extract_file_bytes is not None and context_for is not None:
        root = Path(path).parent
        ctx = context_for(root, Path(path).name, repo="local/file", commit="0" * 40, license="")
        for rec in extract_file_bytes(data, Path(path).name, ctx).records:
            if rec["name"] == name or rec.get("raw_name") == name:
                return rec
        raise BadInputError(f"{path}: no function named {name!r}")
    return _find_with_parser(data, name, path)


def _find_with_parser(data: bytes, name: str, path: Path) -> dict[str, Any]:
    from corpus.extract.parser import parse

    stack = [parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_item":
            ident = node.child_by_field_name("name")
            if ident is not None and ident.text.decode().removeprefix("r#") == name:
                body = node.child_by_field_name("body")
                end = body.start_byte if body is not None else node.end_byte
                sig = data[node.start_byte : end].decode().strip().rstrip(";").strip()
                return {"name": name, "signature": sig, "source": node.text.decode()}
        stack.extend(reversed(node.children))
    raise BadInputError(f"{path}: no function named {name!r}")


def generate_doc(
    adapter: Path,
    *,
    signature: str | None = None,
    source: str | None = None,
    container: str | None = None,
    record: dict[str, Any] | None = None,
    model: str | None = None,
    max_new_tokens: int = 256,
    device: str = "auto",
) -> str:
    """The generated doc comment (``///`` lines), greedy-decoded."""
    import torch

    from corpus.prompt import record_for
    from pipelines.train.config import load_config
    from pipelines.train.data import to_messages
    from pipelines.train.merge import adapter_base, load_adapter_model
    from pipelines.train.model import compute_dtype, load_tokenizer, resolve_device
    from pipelines.train.run import CONFIG_FILE

    adapter = Path(adapter)
    cfg_file = adapter / CONFIG_FILE
    cfg = load_config(config=cfg_file) if cfg_file.exists() else load_config()
    dev = resolve_device(device)
    dtype = str(compute_dtype(dev)).removeprefix("torch.")
    peft_model = load_adapter_model(adapter, model=model, dtype=dtype, device=dev)
    tok_src = (
        adapter
        if (adapter / "tokenizer_config.json").exists()
        else (model or adapter_base(adapter))
    )
    tok = load_tokenizer(str(tok_src))
    if not (signature or source or record):
        raise BadInputError("give --signature TEXT or --file F --fn NAME")
    rec = record or record_for(signature or source or "", container=container, source=source)
    msgs = to_messages(rec, cfg, with_answer=False)
    prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False).to(dev)
    with torch.no_grad():
        out = peft_model.generate(
            **ids,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tok.pad_token_id,
        )
    text = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    lines = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip().startswith("///")]
    return (
        "\n".join(lines)
        if lines
        else "\n".join(f"/// {ln}".rstrip() for ln in text.strip().splitlines())
    )
