"""Which evaluations apply to a dataset: decided here only, from its `DatasetInfo`.

- "lines": the lines benchmark, on datasets whose images are `acai_tf.lines` renderings
  (`DatasetInfo.has_lines_metric`, set by the lines32 entry of the registry);
- "classifier": the latent classifier's accuracy (and, offline, a linear probe), on labelled
  datasets (nclass > 1);
- "clustering": K-means accuracy, on labelled datasets with a finite train split.

The training reports run "lines" and the in-training classifier's accuracy
(`training_eval`); the checkpoint evaluation runs all three (`checkpoint_eval`). Models never
know which dataset they are trained on.
"""

from __future__ import annotations

from acai_tf.datasets import DatasetInfo

PARTS = ("lines", "classifier", "clustering")


def applicable_parts(info: DatasetInfo) -> tuple[str, ...]:
    """The evaluations, among PARTS, that make sense on the dataset `info` describes."""
    parts = []
    if info.has_lines_metric:
        parts.append("lines")
    if info.nclass > 1:
        parts.append("classifier")
        if info.train_size is not None:  # K-means needs a finite set of train latents
            parts.append("clustering")
    return tuple(parts)


def skip_notes(info: DatasetInfo, requested: tuple[str, ...] | None = None) -> list[str]:
    """One line per kind of evaluation skipped for want of labels or lines, e.g. on a flat
    "folder:" dataset. A lines note only when the lines benchmark was asked for by name: every
    dataset but lines32 skips it, which needs no saying by default."""
    wanted = set(requested or PARTS)
    notes = []
    if info.nclass <= 1 and wanted & {"classifier", "clustering"}:
        notes.append(f"note: {info.name} has no labels; skipping the classifier, probe and "
                     "clustering evaluations")
    if requested and "lines" in wanted and "lines" not in applicable_parts(info):
        notes.append(f"note: {info.name} is not made of lines32 images; skipping the lines "
                     "benchmark")
    return notes
