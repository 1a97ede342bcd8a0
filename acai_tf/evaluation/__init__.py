"""Evaluation of trained autoencoders: interpolation quality on the lines32 benchmark."""
