"""Launcher: `python -m flags.report` runs the report binary, acai_tf.cli.report (see its --help)."""

from acai_tf.cli import report

if __name__ == "__main__":
    report.run()
