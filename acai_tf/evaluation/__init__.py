"""Evaluation of trained autoencoders: one layer for the training reports and for checkpoints.

- `suite`: which evaluations apply to a dataset (from its `DatasetInfo`);
- `runner`: batched model calls (encode, decode, reconstruct, interpolate) over numpy arrays;
- `protocols`: each evaluation protocol of the paper, encoded once (lines pairs, classifier and
  probe, clustering, image grids and the interpolation figure);
- `training_eval`: the evaluations of every training report (scalars and grids);
- `checkpoint_eval`: the evaluations of one saved checkpoint (the `evaluate` binary);
- `results`: W/eval/results.json and W/eval/interpolation.png;
- `representation`: the pure probe and clustering metrics (numpy, scikit-learn).

The lines metric itself is `acai_tf.lines.metric`.
"""
