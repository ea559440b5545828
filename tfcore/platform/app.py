"""``tf.app``: `run` parses the command-line flags and calls the program's ``main(argv)``.

    def main(argv):
        ...

    if __name__ == "__main__":
        tf.app.run()
"""

import sys

from tfcore.platform import flags

__all__ = ["run", "flags"]

_HELP = ("--help", "-help", "-h", "--helpshort", "--helpfull", "-?")


def _print_help(program):
    print(f"usage: {program} [flags]\n\nflags:\n{flags.FLAGS.get_help()}")


def run(main=None, argv=None):
    """Parse flags from `argv` (default ``sys.argv``), call ``main(remaining_argv)`` and exit with its
    return value (``sys.exit``).

    `main` defaults to the ``main`` function of the ``__main__`` module. Arguments that name no defined
    flag are tolerated and passed on to `main` (as TF1 did). ``--help`` prints the flags and exits.
    """
    argv = list(sys.argv if argv is None else argv) or [""]
    user_help = any(name in flags.FLAGS for name in ("h", "help", "helpshort", "helpfull"))
    if not user_help and any(arg in _HELP for arg in argv[1:]):
        _print_help(argv[0])
        sys.exit(0)
    try:
        remaining = flags.FLAGS(argv, known_only=True)
    except flags.Error as exc:
        print(f"FATAL Flags parsing error: {exc}", file=sys.stderr)
        print("Pass --help to see the flags.", file=sys.stderr)
        sys.exit(1)
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(remaining))
