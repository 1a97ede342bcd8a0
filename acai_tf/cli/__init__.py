"""The command-line binaries (absl apps): train, evaluate, report, export, prepare_data, demo,
and write_run_flags (writes flags/runs/ from acai_tf.reproduction.paper_runs).

Each module has `run()`, the entry point of its console script (`acai-train`, ...) and of the thin
`python -m flags.<name>` / `python -m export.export_saved_model` launchers. Importing this package
imports TensorFlow with its C++ start-up banner filtered (`acai_tf.quiet_start`), so that the
binaries' stderr holds only progress, results and `error:` lines; `ACAI_TF_LOGS=all` shows
everything. This is the only package under acai_tf that imports absl.flags.
"""

from acai_tf.quiet_start import quiet_tensorflow

quiet_tensorflow()
