"""What the code writes and how: atomic files, strict JSON, Markdown/CSV tables, image grids, and a
run's working directory (its layout, `config.json`, checkpoints)."""
