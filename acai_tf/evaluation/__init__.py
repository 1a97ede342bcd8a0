"""Evaluation of trained autoencoders."""
