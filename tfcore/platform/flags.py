"""Command-line flags as TF1's ``tf.app.flags`` / ``tf.flags`` offers them (an absl-like subset).

    flags = tf.app.flags
    flags.DEFINE_integer("max_steps", 1000, "Number of steps to run trainer.")
    FLAGS = flags.FLAGS
    ...
    print(FLAGS.max_steps)

Accepted forms: ``--name=value``, ``--name value``, ``--flag`` / ``--noflag`` for booleans, one dash in
place of two, and ``--`` to end the flags. Arguments that name no defined flag are left alone and passed
on (as TF1's ``app.run`` did), so a notebook kernel's ``-f kernel.json`` does no harm. Reading a flag
before anything parsed the command line parses ``sys.argv`` on the spot, leniently, as TF1 did.
"""

import sys

__all__ = [
    "FLAGS",
    "DEFINE_string",
    "DEFINE_integer",
    "DEFINE_float",
    "DEFINE_boolean",
    "DEFINE_bool",
    "DEFINE_list",
    "DEFINE_enum",
    "mark_flag_as_required",
    "Flag",
    "FlagValues",
    "Error",
    "IllegalFlagValueError",
    "UnrecognizedFlagError",
    "UnparsedFlagAccessError",
]

_TRUE = ("true", "t", "1", "yes", "y", "on")
_FALSE = ("false", "f", "0", "no", "n", "off")


class Error(Exception):
    """Base class of the flag errors."""


class IllegalFlagValueError(Error):
    """A flag was given a value it cannot take."""


class UnrecognizedFlagError(Error):
    """A flag name that is not defined (raised only where unknown flags are not tolerated)."""


class UnparsedFlagAccessError(Error, AttributeError):
    """Kept for absl compatibility; tfcore's FLAGS parses ``sys.argv`` on first access instead."""


class Flag:
    """One defined flag: `name`, `default`, `help`, `flag_type` and its current `value`."""

    def __init__(self, name, default, help, flag_type, parse, enum_values=None, lower_bound=None,
                 upper_bound=None):
        self.name = name
        self.help = help
        self.flag_type = flag_type
        self.enum_values = list(enum_values) if enum_values is not None else None
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.present = 0
        self._parse_fn = parse
        self.default = self._convert(default) if default is not None else None
        self.value = self.default

    @property
    def boolean(self):
        """True for a boolean flag (it takes ``--name`` / ``--noname``)."""
        return self.flag_type == "bool"

    def _convert(self, value):
        try:
            result = self._parse_fn(value)
        except (TypeError, ValueError) as exc:
            raise IllegalFlagValueError(f"flag --{self.name}={value!r}: {exc}") from None
        if self.enum_values is not None and result not in self.enum_values:
            raise IllegalFlagValueError(
                f"flag --{self.name}={value!r}: value should be one of <{'|'.join(self.enum_values)}>")
        if self.lower_bound is not None and result < self.lower_bound:
            raise IllegalFlagValueError(f"flag --{self.name}={value!r}: should be >= {self.lower_bound}")
        if self.upper_bound is not None and result > self.upper_bound:
            raise IllegalFlagValueError(f"flag --{self.name}={value!r}: should be <= {self.upper_bound}")
        return result

    def parse(self, argument):
        """Set the flag from a command-line string (or a Python value)."""
        self.value = self._convert(argument)
        self.present += 1

    def __repr__(self):
        return f"<Flag --{self.name}={self.value!r} ({self.flag_type})>"


def _parse_string(value):
    return value if value is None else str(value)


def _parse_int(value):
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 0)
    except ValueError:
        return int(text, 10)  # "010" is 10, not an error


def _parse_float(value):
    if isinstance(value, bool):
        raise ValueError("expected a number")
    return float(value)


def _parse_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def _parse_list(value):
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    text = str(value).strip()
    return [part.strip() for part in text.split(",")] if text else []


class FlagValues:
    """The registry of defined flags, with attribute access to their values (``FLAGS.max_steps``).

    Calling it with an argv list (``FLAGS(sys.argv)``) parses the flags it holds and returns the
    remaining arguments: ``argv[0]``, then every positional argument and every unknown flag, in order.
    """

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_required", set())

    # -- definition ------------------------------------------------------------------------------------

    def _define(self, flag):
        # Redefining replaces the old flag: re-running a notebook cell must not fail.
        self._flags[flag.name] = flag
        return flag

    # -- parsing ---------------------------------------------------------------------------------------

    def __call__(self, argv, known_only=True):
        """Parse `argv` (``argv[0]`` is the program) and return the arguments left over.

        With `known_only` (the default, as TF1's ``app.run``), unknown flags are left in the result;
        otherwise they raise `UnrecognizedFlagError`.
        """
        argv = list(argv)
        if not argv:
            raise Error("argv must hold at least the program name")
        rest = [argv[0]]
        args = argv[1:]
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                rest.extend(args[i:])
                break
            if not arg.startswith("-") or arg == "-" or _is_number(arg):
                rest.append(arg)
                continue
            body = arg[2:] if arg.startswith("--") else arg[1:]
            name, has_value, value = body.partition("=")
            flag = self._flags.get(name)
            if flag is None and not has_value and name.startswith("no"):
                negated = self._flags.get(name[2:])
                if negated is not None and negated.boolean:
                    negated.parse(False)
                    continue
            if flag is None:
                if not known_only:
                    raise UnrecognizedFlagError(f"Unknown command line flag {name!r}")
                rest.append(arg)
                continue
            if has_value:
                flag.parse(value)
            elif flag.boolean:
                flag.parse(True)
            elif i < len(args):
                flag.parse(args[i])
                i += 1
            else:
                raise IllegalFlagValueError(f"flag --{name} needs a value")
        object.__setattr__(self, "_parsed", True)
        missing = sorted(n for n in self._required if n in self._flags and self._flags[n].value is None)
        if missing:
            raise IllegalFlagValueError(f"flag(s) {', '.join('--' + n for n in missing)} must be given")
        return rest

    def is_parsed(self):
        """Whether a command line has been parsed into these flags."""
        return self._parsed

    def mark_as_parsed(self):
        """Treat the flags as parsed (their values stay as they are)."""
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self):
        """Reset every flag to its default and forget that a command line was parsed."""
        for flag in self._flags.values():
            flag.value = flag.default
            flag.present = 0
        object.__setattr__(self, "_parsed", False)

    def _parse_flags(self, args=None):
        """TF <= 1.4's spelling: parse ``sys.argv`` (or `args`, without the program name)."""
        argv = sys.argv[:1] + list(args) if args is not None else list(sys.argv or [""])
        return self(argv)[1:]

    def _ensure_parsed(self):
        if not self._parsed:
            self(sys.argv if sys.argv else [""])

    # -- access ----------------------------------------------------------------------------------------

    def __getattr__(self, name):
        flags = self.__dict__.get("_flags")
        if flags is None:
            raise AttributeError(name)
        if name == "__flags":  # TF <= 1.4 code prints FLAGS.__flags.items()
            self._ensure_parsed()
            return {n: f.value for n, f in flags.items()}
        if name not in flags:
            raise AttributeError(name)
        self._ensure_parsed()
        return flags[name].value

    def __setattr__(self, name, value):
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"no flag named {name!r}; define it first (DEFINE_string(...))")
        flag.value = flag._convert(value) if value is not None else None

    def __delattr__(self, name):
        if name not in self._flags:
            raise AttributeError(name)
        del self._flags[name]

    def __getitem__(self, name):
        return self._flags[name]

    def __contains__(self, name):
        return name in self._flags

    def __iter__(self):
        return iter(list(self._flags))

    def __len__(self):
        return len(self._flags)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._flags))

    def flag_values_dict(self):
        """A dict of flag name to current value."""
        return {name: flag.value for name, flag in self._flags.items()}

    def get_flag_value(self, name, default):
        """The value of flag `name`, or `default` when there is no such flag."""
        flag = self._flags.get(name)
        return default if flag is None else flag.value

    def get_help(self):
        """The help text: one block per flag."""
        lines = []
        for name in sorted(self._flags):
            flag = self._flags[name]
            extra = f" (one of {'|'.join(flag.enum_values)})" if flag.enum_values else ""
            lines.append(f"  --{name}: {flag.help}{extra}\n    (default: {flag.default!r})")
        return "\n".join(lines)

    def __repr__(self):
        return f"<FlagValues {self.flag_values_dict()}>"


def _is_number(arg):
    try:
        float(arg)
    except ValueError:
        return False
    return True


FLAGS = FlagValues()
"""The process-wide flags, as ``tf.app.flags.FLAGS``."""


def _define(name, default, help, flag_type, parse, flag_values, **kwargs):
    flag_values = FLAGS if flag_values is None else flag_values
    return flag_values._define(Flag(name, default, help, flag_type, parse, **kwargs))


def DEFINE_string(name, default, help, flag_values=None, **kwargs):
    """Define a string flag (`default` may be None)."""
    return _define(name, default, help, "string", _parse_string, flag_values)


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None, flag_values=None,
                   **kwargs):
    """Define an integer flag, optionally bounded."""
    return _define(name, default, help, "int", _parse_int, flag_values, lower_bound=lower_bound,
                   upper_bound=upper_bound)


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None, flag_values=None,
                 **kwargs):
    """Define a float flag, optionally bounded."""
    return _define(name, default, help, "float", _parse_float, flag_values, lower_bound=lower_bound,
                   upper_bound=upper_bound)


def DEFINE_boolean(name, default, help, flag_values=None, **kwargs):
    """Define a boolean flag, set by ``--name``, ``--noname`` or ``--name=true|false``."""
    return _define(name, default, help, "bool", _parse_bool, flag_values)


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name, default, help, flag_values=None, **kwargs):
    """Define a comma-separated list-of-strings flag (`default` a list or a ``"a,b"`` string)."""
    return _define(name, default, help, "list", _parse_list, flag_values)


def DEFINE_enum(name, default, enum_values, help, flag_values=None, **kwargs):
    """Define a string flag whose value must be one of `enum_values`."""
    return _define(name, default, help, "enum", _parse_string, flag_values, enum_values=enum_values)


def mark_flag_as_required(name, flag_values=None):
    """Make parsing fail unless flag `name` ends up with a value other than None."""
    flag_values = FLAGS if flag_values is None else flag_values
    flag_values._required.add(name)
