"""Stages after the corpus is built: fine-tuning on it."""
