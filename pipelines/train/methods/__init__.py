"""Training after SFT: `corpus train dpo|kto|orpo|reward|rl`, on the same QLoRA stack and
recipe system as `corpus train` (``pipelines.train.config``), with TRL's trainers.

- ``inputs``: the config of a method run (tier + method overlay + the SFT adapter's prompt and
  base + overrides) and every check that needs no model (pairs, views, adapter, base);
- ``data``: pairs, the KTO view and RL prompts as TRL datasets (too-long examples dropped and
  counted, never cut);
- ``trainers``: one builder per method (DPO/IPO/hinge, KTO, ORPO, reward model, GRPO);
- ``reward_model``: loading a reward run and scoring outputs with it (eval and RL);
- ``report``: report.md of a method run (its metrics, KL, rewards and guards);
- ``run``: the one entry point, :func:`pipelines.train.methods.run.train_method`.
"""
