"""Launchers for the binaries in acai_tf.cli (`python -m flags.<name>`) and the paper's runs
as flagfiles (flags/runs/)."""
