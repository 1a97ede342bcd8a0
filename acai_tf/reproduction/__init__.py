"""The reproduction library: the paper's runs and tables, the run records they are built from."""
