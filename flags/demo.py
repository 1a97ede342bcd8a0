"""Launcher: `python -m flags.demo` runs the demo binary, acai_tf.cli.demo (see its --help)."""

from acai_tf.cli import demo

if __name__ == "__main__":
    demo.run()
