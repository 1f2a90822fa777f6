"""creditdsl: a declarative rulebook language and interpreter for points-based scoring schemes."""

__version__ = "0.1.0"
