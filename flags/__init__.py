"""The absl binaries (train, evaluate, report, prepare_data, demo) and the paper's flagfiles."""
