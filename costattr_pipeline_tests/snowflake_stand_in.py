"""fakesnow as the Snowflake account, made faithful where costattr depends on it.

fakesnow 0.12.1 wraps the argument of every SUM, AVG, MEDIAN, ... that is not itself a CAST in
``TRY_CAST(... AS DOUBLE)``, so that a VARCHAR column sums as Snowflake's implicit cast would. For
NUMBER(p, s) that turns Snowflake's exact sum into a binary float (``SUM(a + b)`` of two NUMBER(38, 18)
columns gives 8508.59302368975 instead of 8508.593023689749...). costattr never sums text, and its money
must stay exact on the stand-in as it does in Snowflake: the account here leaves aggregate arguments
as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlglot import Expr


def _aggregate_as_snowflake(expression: Expr) -> Expr:
    return expression  # a NUMBER argument is summed as a NUMBER, as Snowflake does


@contextlib.contextmanager
def fakesnow_account() -> Iterator[None]:
    """``fakesnow.patch()`` (every ``snowflake.connector.connect`` reaches the fake), aggregates kept exact."""
    import fakesnow
    import fakesnow.transforms

    with pytest.MonkeyPatch.context() as patch, fakesnow.patch():
        patch.setattr(fakesnow.transforms, "numeric_agg_implicit_cast", _aggregate_as_snowflake)
        yield
