"""Launcher: `python -m flags.evaluate` runs the evaluate binary, acai_tf.cli.evaluate (see its --help)."""

from acai_tf.cli import evaluate

if __name__ == "__main__":
    evaluate.run()
