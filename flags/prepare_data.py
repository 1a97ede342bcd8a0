"""Launcher: `python -m flags.prepare_data` runs the prepare_data binary, acai_tf.cli.prepare_data (see its --help)."""

from acai_tf.cli import prepare_data

if __name__ == "__main__":
    prepare_data.run()
