"""TensorFlow's run-time error classes (`tf.errors.*`), raised by the Session with the op named."""


class OpError(Exception):
    """A run-time failure of one op; `op` is the Operation (or None) and `message` the reason."""

    error_code = 2

    def __init__(self, node_def, op, message, *args):
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self):
        return self.message


def _error(name, code):
    cls = type(name, (OpError,), {"error_code": code, "__doc__": f"TF's {name} (code {code})."})
    return cls


CancelledError = _error("CancelledError", 1)
UnknownError = _error("UnknownError", 2)
InvalidArgumentError = _error("InvalidArgumentError", 3)
DeadlineExceededError = _error("DeadlineExceededError", 4)
NotFoundError = _error("NotFoundError", 5)
AlreadyExistsError = _error("AlreadyExistsError", 6)
PermissionDeniedError = _error("PermissionDeniedError", 7)
ResourceExhaustedError = _error("ResourceExhaustedError", 8)
FailedPreconditionError = _error("FailedPreconditionError", 9)
AbortedError = _error("AbortedError", 10)
OutOfRangeError = _error("OutOfRangeError", 11)
UnimplementedError = _error("UnimplementedError", 12)
InternalError = _error("InternalError", 13)
UnavailableError = _error("UnavailableError", 14)
DataLossError = _error("DataLossError", 15)


class DTypeMismatchError(ValueError, TypeError):
    """Build-time dtype mismatch between an op's inputs.

    TensorFlow raises TypeError here and shape errors as ValueError; this class is both, so code
    written for either catches it.
    """
