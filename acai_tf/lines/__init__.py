"""The lines32 benchmark in one place: its images, its dataset and its interpolation metric.

- `render`: the renderer, one anti-aliased line per angle, [..., 32, 32, 1] in [-1, 1] (its
  public names are re-exported here: `lines.render_lines`, `lines.uniform_angles`, ...);
- `dataset`: the tf.data pipelines of the "lines32" dataset (fresh lines for training, a fixed
  test sample), registered in `acai_tf.datasets`;
- `metric`: the paper's mean distance and smoothness of decoded interpolations;
- `reference`: interpolations with known metric values, for tests and demos.

Importing the package loads only numpy; `dataset` (TensorFlow) is imported where it is used.
"""

from acai_tf.lines.render import (IMAGE_SIZE, NUM_CLASSES, STROKE_WIDTH, angle_labels,
                                  render_lines, uniform_angles)

__all__ = ["IMAGE_SIZE", "NUM_CLASSES", "STROKE_WIDTH", "angle_labels", "render_lines",
           "uniform_angles"]
