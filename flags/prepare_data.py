"""Prepares a dataset for offline use by the training and evaluation binaries.

Usage (from the repo root):

    python -m flags.prepare_data --dataset=mnist32 --data_dir=.cache/tfds \
        --manual_dir=../shared/data/mnist

With --manual_dir the original archives are taken from that folder (their checksums are
checked against the ones tensorflow-datasets registers); without it they are downloaded, which
needs internet access. Preparing an already prepared dataset does nothing. Errors are printed as
one line, ``error: ...``, with exit status 1.
"""

import sys
import time

from acai_tf.quiet_start import quiet_tensorflow

# Before anything imports TensorFlow: its C++ banner would bury the one-line errors.
quiet_tensorflow()

# pylint: disable=wrong-import-position
from absl import app
from absl import flags

from acai_tf import datasets

_DATASET = flags.DEFINE_string(
    "dataset", None, f"Dataset to prepare: one of {', '.join(datasets.names())} or tfds:NAME "
    "(a folder:PATH dataset needs no preparation; this only checks it).")
_DATA_DIR = flags.DEFINE_string(
    "data_dir", None, "tfds data directory (default: $ACAI_TFDS_DIR or ~/tensorflow_datasets).")
_MANUAL_DIR = flags.DEFINE_string(
    "manual_dir", None, "Folder holding the dataset's original archives (offline preparation).")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    data_dir = _DATA_DIR.value or datasets.default_data_dir()
    start = time.monotonic()
    try:
        datasets.prepare(_DATASET.value, data_dir, manual_dir=_MANUAL_DIR.value)
        datasets.check_prepared(_DATASET.value, data_dir)
    # A user mistake (bad name, missing archive, bad checksum) deserves one readable line, not
    # a traceback through tfds internals.
    except Exception as err:  # pylint: disable=broad-except
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"error: {first_line}", file=sys.stderr)
        sys.exit(1)
    print(f"{_DATASET.value} is prepared in {data_dir} ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    flags.mark_flag_as_required("dataset")
    app.run(main)
