"""Write-audit-publish: a blocking check that fails leaves the published tables as they were.

Every asset writes its window inside one transaction. Its blocking checks (invariants: sums that
reconcile, keys that are unique, prices and rates found) are evaluated inside that same
transaction, on the rows it has just staged, before the transaction commits. When one fails,
:func:`audit` raises: the transaction rolls back, nothing is published, downstream assets do not
run, and the step's error (what ``costattr run`` prints) is the check's one-line rule. When they
pass, the rows are published by the commit and the check results are reported with the
materialization as usual.
"""

from __future__ import annotations

import dagster as dg


class BlockingCheckFailed(RuntimeError):
    """A blocking check failed on the staged rows: nothing was published."""

    def __init__(self, asset_key: dg.AssetKey, result: dg.AssetCheckResult):
        self.check_name = result.check_name
        rule = result.description or "failed"
        super().__init__(f"{asset_key.to_user_string()}: blocking check {result.check_name}: {rule} "
                         "(nothing was published)")


def audit(asset_key: dg.AssetKey, *results: dg.AssetCheckResult) -> list[dg.AssetCheckResult]:
    """The results, unless a blocking (ERROR) one failed: then raise, inside the window's transaction."""
    for result in results:
        if not result.passed and result.severity == dg.AssetCheckSeverity.ERROR:
            raise BlockingCheckFailed(asset_key, result)
    return list(results)
