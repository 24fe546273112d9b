"""QLoRA fine-tuning of Qwen2.5-Coder on the corpus (install with the ``train`` extra).

Modules: ``config`` (the recipe dataclass and its validation), ``arch`` (model shapes),
``plan`` (memory plan), ``data`` (records -> ChatML -> tokens), ``model`` (quantised base +
LoRA/DoRA/LoHa/LoKr), ``run`` (the training loop), ``callbacks`` (metrics, progress, rank sync),
``merge``, ``combine`` (weighted adapters), ``inference`` (one base, named adapters),
``generate`` and ``fill`` (docs for one fn / a tree), ``gguf``, ``export`` and ``modelfile``
(llama.cpp / Ollama), ``quant_report``, ``sweeps`` (rank ablation, LR range test), ``report``
(loss curves). ``config``, ``arch``, ``plan`` (but for LoKr counts) and ``modelfile`` avoid
torch at import time.
"""
