"""Launcher: `python -m flags.write_run_flags` runs acai_tf.cli.write_run_flags (see its --help)."""

from acai_tf.cli import write_run_flags

if __name__ == "__main__":
    write_run_flags.run()
