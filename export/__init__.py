"""The launcher `python -m export.export_saved_model` (code: acai_tf.cli.export and
acai_tf.serving) and the serving guide, README.md."""
