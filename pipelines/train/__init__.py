"""QLoRA fine-tuning of Qwen2.5-Coder on the corpus (install with the ``train`` extra).

Modules: ``config`` (the recipe dataclass and its validation), ``arch`` (model shapes),
``plan`` (memory plan), ``data`` (records -> ChatML -> tokens), ``model`` (quantised base + LoRA),
``run`` (the training loop), ``merge``, ``generate``, ``sweeps`` (rank ablation, LR range test),
``report`` (loss curves). Only ``config``, ``arch`` and ``plan`` avoid torch at import time.
"""
