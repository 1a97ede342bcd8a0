"""Launcher: `python -m flags.train` runs the train binary, acai_tf.cli.train (see its --help)."""

from acai_tf.cli import train

if __name__ == "__main__":
    train.run()
