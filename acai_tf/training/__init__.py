"""Training: the resumable loop (`train_lib`), its per-period callbacks and progress line,
strategies by name, `metrics.jsonl`, the HParams-dashboard row and the machine a run ran on."""
