r"""Prepares a dataset for offline use by the training and evaluation binaries.

Usage (`acai-prepare-data` once installed, or `python -m flags.prepare_data` from the repo
root):

    acai-prepare-data --dataset=mnist32 --data_dir=.cache/tfds \
        --manual_dir=../shared/data/mnist

With --manual_dir the original archives are taken from that folder (their checksums are
checked against the ones tensorflow-datasets registers); without it they are downloaded, which
needs internet access. Preparing an already prepared dataset does nothing. Errors are printed as
one line, ``error: ...``, with exit status 1.
"""

import time

from absl import flags

from acai_tf import datasets
from acai_tf.cli import runner


def define_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines the prepare_data flags in `flag_values` (at run time, not on import)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string(
        "dataset", None, f"Dataset to prepare: one of {', '.join(datasets.names())} or "
        "tfds:NAME (a folder:PATH dataset needs no preparation; this only checks it).", **fv)
    flags.DEFINE_string("data_dir", None, "tfds data directory (default: $ACAI_TFDS_DIR or "
                        "~/tensorflow_datasets).", **fv)
    flags.DEFINE_string("manual_dir", None, "Folder holding the dataset's original archives "
                        "(offline preparation).", **fv)


def main() -> None:
    fv = flags.FLAGS
    data_dir = fv.data_dir or datasets.default_data_dir()
    start = time.monotonic()
    # A user mistake (bad name, missing archive, bad checksum) deserves one readable line, not
    # a traceback through tfds internals.
    with runner.one_line_errors(Exception):
        datasets.prepare(fv.dataset, data_dir, manual_dir=fv.manual_dir)
        datasets.check_prepared(fv.dataset, data_dir)
    print(f"{fv.dataset} is prepared in {data_dir} ({time.monotonic() - start:.1f} s)")


def run() -> None:
    runner.run(__name__, main, define_flags=define_flags, required=("dataset",))


if __name__ == "__main__":
    run()
