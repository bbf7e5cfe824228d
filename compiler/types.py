"""Value types of the typed graph: physical dimensions, quantities, fixed-point formats."""
from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- physical dimensions


@dataclass(frozen=True)
class Dim:
    """A physical dimension as exponents of time and voltage (frequency is time^-1)."""

    time: int = 0
    voltage: int = 0

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(self.time + other.time, self.voltage + other.voltage)

    def __truediv__(self, other: "Dim") -> "Dim":
        return Dim(self.time - other.time, self.voltage - other.voltage)

    def __str__(self) -> str:
        return describe_dim(self)


NONE = Dim()
TIME = Dim(time=1)
FREQUENCY = Dim(time=-1)
VOLTAGE = Dim(voltage=1)

#: unit name -> (dimension, factor to SI)
UNITS: dict[str, tuple[Dim, float]] = {
    "us": (TIME, 1e-6),
    "ms": (TIME, 1e-3),
    "s": (TIME, 1.0),
    "Hz": (FREQUENCY, 1.0),
    "kHz": (FREQUENCY, 1e3),
    "MHz": (FREQUENCY, 1e6),
    "uV": (VOLTAGE, 1e-6),
    "mV": (VOLTAGE, 1e-3),
    "V": (VOLTAGE, 1.0),
}

_DIM_NAMES = {NONE: "a plain number", TIME: "a time", FREQUENCY: "a frequency", VOLTAGE: "a voltage"}
_DIM_UNITS = {TIME: "us, ms, s", FREQUENCY: "Hz, kHz, MHz", VOLTAGE: "uV, mV, V"}


def describe_dim(dim: Dim) -> str:
    """'a time', 'a frequency', or e.g. 'time^2*voltage' for unusual products."""
    if dim in _DIM_NAMES:
        return _DIM_NAMES[dim]
    parts = []
    for name, exp in (("time", dim.time), ("voltage", dim.voltage)):
        if exp == 1:
            parts.append(name)
        elif exp:
            parts.append(f"{name}^{exp}")
    return "*".join(parts)


def dim_units(dim: Dim) -> str:
    """The units that express ``dim``, for hints."""
    return _DIM_UNITS.get(dim, "")


@dataclass(frozen=True)
class Quantity:
    """A number with a physical dimension, stored in SI units (seconds, hertz, volts)."""

    value: float
    dim: Dim = NONE

    def __str__(self) -> str:
        return self.text()

    def text(self, digits: int = 6) -> str:
        """The value in its dimension's most readable unit, to ``digits`` significant digits."""
        number, unit = _scaled(self.value, _SCALES.get(self.dim))
        return f"{number:.{digits}g}" + (f" {unit}" if unit else "")

    def exact_text(self) -> str:
        """:meth:`text` with as many digits as tell the value from a rounded one (an error about
        5000.0001 MHz does not say "got 5000 MHz")."""
        number, _ = _scaled(self.value, _SCALES.get(self.dim))
        for digits in (6, 9, 12):
            if abs(float(f"{number:.{digits}g}") - number) <= 1e-13 * abs(number):
                return self.text(digits)
        return self.text(15)


_SCALES = {TIME: (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)),
           FREQUENCY: (("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0)),
           VOLTAGE: (("V", 1.0), ("mV", 1e-3), ("uV", 1e-6))}


def _scaled(value: float, scales) -> tuple[float, str]:
    """``value`` in the first of ``scales`` (unit, factor) it reaches, else the last; as it is
    without units."""
    if not scales:
        return value, ""
    for unit, factor in scales:
        if abs(value) >= factor * 0.999999 or unit == scales[-1][0]:
            return value / factor, unit
    raise AssertionError("unreachable: the last scale always matches")  # pragma: no cover


# --------------------------------------------------------------------------- fixed point

MAX_FIXED_WIDTH = 32


@dataclass(frozen=True)
class Fixed:
    """A two's-complement (or unsigned) fixed-point format: ``width`` bits, ``frac`` of them fractional.

    A stored integer ``q`` means the real value ``q * 2**-frac``. Written ``fixed<W,F>`` (signed) or
    ``ufixed<W,F>`` (unsigned) in a ``.snn`` file.
    """

    width: int
    frac: int
    signed: bool = True

    def __post_init__(self) -> None:
        problem = fixed_format_problem(self.width, self.frac, self.signed)
        if problem:
            raise ValueError(problem)

    @property
    def int_bits(self) -> int:
        """Bits left of the binary point, sign bit included."""
        return self.width - self.frac

    @property
    def min_int(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def scale(self) -> float:
        """The real value of one least-significant bit."""
        return 2.0 ** -self.frac

    @property
    def min_value(self) -> float:
        return self.min_int * self.scale

    @property
    def max_value(self) -> float:
        return self.max_int * self.scale

    def __str__(self) -> str:
        return f"{'fixed' if self.signed else 'ufixed'}<{self.width},{self.frac}>"


def fixed_format_problem(width: int, frac: int, signed: bool) -> str | None:
    """Why ``(width, frac, signed)`` is not a valid format, or None if it is."""
    name = f"{'fixed' if signed else 'ufixed'}<{width},{frac}>"
    low = 2 if signed else 1
    if not isinstance(width, int) or not isinstance(frac, int):
        return f"invalid fixed-point format {name}: width and fraction must be integers"
    if not low <= width <= MAX_FIXED_WIDTH:
        return (f"invalid fixed-point format {name}: width must be between {low} and "
                f"{MAX_FIXED_WIDTH} bits")
    if not 0 <= frac < width + (0 if signed else 1):
        limit = width - 1 if signed else width
        return (f"invalid fixed-point format {name}: fraction bits must be between 0 and {limit}"
                + (" (one bit is the sign)" if signed else ""))
    return None
