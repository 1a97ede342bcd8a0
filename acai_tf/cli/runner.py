"""What every binary shares: start-up, `--help`, and errors as one line.

    def run() -> None:
        runner.run(__name__, main, define_flags=define_flags, required=("workdir",))

- `--help` prints the binary's module docstring and its own flags, whether it was started as a
  console script, with `python -m`, or through Bazel (absl looks both up under `sys.argv[0]`).
- A bad flag, a stray argument or a `UserError` is printed as one line,
  `error: ...`, with exit status 1; `fail` does the same from anywhere in a binary.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, NoReturn, Sequence

from absl import app
from absl import flags
from absl import logging

from acai_tf.errors import UserError


def print_error(message: str) -> None:
    """Prints `error: <first line of message>` on stderr."""
    text = str(message).strip()
    print(f"error: {text.splitlines()[0] if text else 'unknown error'}", file=sys.stderr)


def fail(message: str) -> NoReturn:
    """Prints `error: message` (one line) on stderr and exits with status 1."""
    print_error(message)
    sys.exit(1)


@contextlib.contextmanager
def one_line_errors(*error_types: type[BaseException]) -> Iterator[None]:
    """Turns a `UserError` (or the listed exception types instead) into `fail(first line)`."""
    error_types = error_types or (UserError,)
    try:
        yield
    except error_types as error:
        fail(str(error) or type(error).__name__)


def exit_status(action: Callable[[], None]) -> int:
    """Runs `action`: 0, or 1 after printing a `UserError` it raised as one `error:` line.

    For binaries whose main is also called in-process (tests), where exiting is the caller's
    business.
    """
    try:
        action()
    except UserError as error:
        print_error(str(error) or type(error).__name__)
        return 1
    return 0


_HELP_FLAGS = ("--help", "-help", "--helpshort", "--helpfull", "--helpxml", "-?")


def parse_or_exit(argv: list[str], flag_values: flags.FlagValues = flags.FLAGS) -> list[str]:
    """Parses argv like absl does, but reports a bad flag as one `error:` line, exit 1, and
    ends a --help with exit 0 (absl exits 1 after printing it; asking for help is no error)."""
    try:
        return flag_values(argv)
    except flags.Error as error:
        fail(str(error))
    except SystemExit:
        if any(arg.split("=", 1)[0] in _HELP_FLAGS for arg in argv[1:]):
            sys.exit(0)
        raise


def run(module_name: str, main: Callable[[], None], *, define_flags: Callable[[], None],
        required: Sequence[str] = (), verbosity: int = logging.ERROR) -> None:
    """Defines the binary's flags, parses argv and calls `main()`.

    Args:
        module_name: the binary's module (`__name__`): its docstring is the `--help` text.
        main: the binary's body; it reads `flags.FLAGS`.
        define_flags: defines the binary's flags in `flags.FLAGS`.
        required: flags that must be given.
        verbosity: absl logging level unless --verbosity is given (library INFO and WARNING
            lines, e.g. tfds probing a data_dir, would crowd the binary's own output).
    """
    define_flags()
    flags.mark_flags_as_required(list(required))
    _show_as_main(sys.modules[module_name])

    def main_with_argv(argv: list[str]) -> None:
        if len(argv) > 1:
            fail(f"unexpected arguments: {' '.join(argv[1:])}")
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(verbosity)
        main()

    app.run(main_with_argv, flags_parser=parse_or_exit)


def _show_as_main(module) -> None:
    """Makes absl's --help show `module`'s docstring and the project's flags.

    absl prints `sys.modules["__main__"].__doc__` and the flags registered under `sys.argv[0]`;
    under a console script or a `python -m` launcher neither is the binary's module.
    """
    sys.modules["__main__"].__doc__ = module.__doc__
    fv = flags.FLAGS
    for defining_module, module_flags in fv.flags_by_module_dict().items():
        if defining_module.startswith("acai_tf."):
            for flag in module_flags:
                fv.register_key_flag_for_module(sys.argv[0], flag)
