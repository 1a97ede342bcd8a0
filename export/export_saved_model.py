"""Launcher: `python -m export.export_saved_model` runs acai_tf.cli.export (see its --help)."""

from acai_tf.cli import export

if __name__ == "__main__":
    export.run()
