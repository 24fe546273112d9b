"""Ollama's ``Modelfile`` for an exported GGUF: ChatML template, the training system prompt,
stop tokens and decoding parameters — and a reader for the format, to check what was written.

The TEMPLATE renders a conversation exactly as the tokenizer's chat template (Qwen's ChatML)
rendered it in training: ``<|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n
{prompt}<|im_end|>\\n<|im_start|>assistant\\n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpus.errors import BadInputError

CHATML_TEMPLATE = (
    "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n{{ .Response }}<|im_end|>\n"
)
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")
INSTRUCTIONS = ("FROM", "ADAPTER", "TEMPLATE", "SYSTEM", "PARAMETER", "LICENSE", "MESSAGE")


@dataclass
class Modelfile:
    """The instructions of a Modelfile, parsed."""

    from_: str = ""
    adapters: list[str] = field(default_factory=list)
    template: str = ""
    system: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)

    def parameter(self, name: str) -> list[str]:
        """Every value given to ``PARAMETER name`` (``stop`` may repeat)."""
        return [v for k, v in self.parameters if k == name]


def _triple(text: str, what: str) -> str:
    if '"""' in text:
        raise BadInputError(f'the {what} contains """, which a Modelfile cannot quote')
    return f'"""{text}"""'


def render(
    *,
    from_: str,
    system: str,
    adapter: str | None = None,
    num_ctx: int = 4096,
    num_predict: int = 256,
) -> str:
    """The Modelfile text (paths relative to the Modelfile's folder, as Ollama reads them)."""
    lines = [f"FROM {from_}"]
    if adapter:
        lines.append(f"ADAPTER {adapter}")
    lines += [
        f"TEMPLATE {_triple(CHATML_TEMPLATE, 'template')}",
        f"SYSTEM {_triple(system, 'system prompt')}",
        *(f'PARAMETER stop "{s}"' for s in STOP_TOKENS),
        "PARAMETER temperature 0",  # greedy, as the model was evaluated
        f"PARAMETER num_ctx {num_ctx}",
        f"PARAMETER num_predict {num_predict}",
    ]
    return "\n".join(lines) + "\n"


def parse(text: str) -> Modelfile:
    """Read a Modelfile: one instruction per line, ``\"\"\"`` strings spanning lines, ``#``
    comments; an unknown instruction or an unterminated string is an error."""
    mf = Modelfile()
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl < 0 else nl
        line = text[pos:nl]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pos = nl + 1
            continue
        word, _, rest = stripped.partition(" ")
        word, rest = word.upper(), rest.strip()
        if word not in INSTRUCTIONS:
            raise ValueError(f"unknown instruction {word}")
        if rest.startswith('"""'):
            body = pos + line.index('"""') + 3
            close = text.find('"""', body)
            if close < 0:
                raise ValueError(f'{word}: unterminated """ string')
            value, pos = text[body:close], close + 3
        else:
            value, pos = rest, nl + 1
        _assign(mf, word, value)
    return mf


def _assign(mf: Modelfile, word: str, value: str) -> None:
    if word == "FROM":
        mf.from_ = value
    elif word == "ADAPTER":
        mf.adapters.append(value)
    elif word == "TEMPLATE":
        mf.template = value
    elif word == "SYSTEM":
        mf.system = value
    elif word == "PARAMETER":
        key, _, val = value.partition(" ")
        val = val.strip()
        mf.parameters.append((key, val[1:-1] if val.startswith('"') and val.endswith('"') else val))
