"""The production Cost Explorer source: ``GetCostAndUsage`` through boto3, on dagster-aws's boto3 configuration.

Imported only where it is used (the production target, the tests): dagster-aws and botocore cost 0.7-0.9 s
to import, which the local target (export files) does not need.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.retries.standard import RetryContext, StandardRetryConditions
from pydantic import Field

from costattr_pipeline.lib.config import AwsSettings
from costattr_pipeline.lib.cost_explorer import Fetch
from costattr_pipeline.resources.aws import Boto3ClientResource
from costattr_pipeline.resources.cost_explorer import CostExplorerError, CostExplorerSource


class CostExplorerApi(CostExplorerSource, Boto3ClientResource):
    """Production: ``GetCostAndUsage`` through boto3, configured the dagster-aws way.

    Pages are followed through ``NextPageToken``. botocore's retry mode (``retry_mode``,
    ``max_attempts``) is the one retry policy: it retries throttling and 5xx answers;
    what still fails after that is ``COST_EXPLORER_UNAVAILABLE``. Any other 4xx is
    ``COST_EXPLORER_4XX`` at once, because retrying a bad request cannot succeed.
    """

    region_name: str | None = Field(default="us-east-1",
                                    description="Cost Explorer's one endpoint is in us-east-1")
    archive_dir: str = Field(default=".costattr/cost_explorer_fetches",
                             description="Folder where each fetch's pages are kept as JSON (the raw record)")

    def _call(self, client: Any, request: dict[str, Any], log: Any) -> dict[str, Any]:
        where = f"Cost Explorer at {client.meta.endpoint_url}"
        try:
            page = client.get_cost_and_usage(**request)
        except ClientError as error:
            metadata, answer = error.response.get("ResponseMetadata", {}), error.response.get("Error", {})
            status = metadata.get("HTTPStatusCode", 0)
            said = ": ".join(part for part in (answer.get("Code") or str(status), answer.get("Message")) if part)
            if 400 <= status < 500 and not _botocore_retries(client, error):
                raise CostExplorerError("COST_EXPLORER_4XX", f"{where} refused the request ({said})") from error
            attempts = metadata.get("RetryAttempts", 0) + 1
            raise CostExplorerError("COST_EXPLORER_UNAVAILABLE",
                                    f"{where} still failing after {attempts} attempt(s) ({said})") from error
        except (BotocoreConnectionError, HTTPClientError) as error:  # unreachable or timed out, after botocore retried
            raise CostExplorerError("COST_EXPLORER_UNAVAILABLE",
                                    f"{where} unreachable after {self.max_attempts} attempt(s) ({error})") from error
        retries = page.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if retries:
            log.warning(f"{where} answered after {retries} retr{'y' if retries == 1 else 'ies'} (throttling or 5xx)")
        return page

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        client = self.boto3_client("ce")
        request: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": [aws.metric],
            "GroupBy": [{"Type": "TAG", "Key": aws.tenant_tag}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        }
        pages: list[dict[str, Any]] = []
        while True:
            page = self._call(client, request, log)
            page.pop("ResponseMetadata", None)
            pages.append(page)
            token = page.get("NextPageToken")
            if not token:
                break
            request["NextPageToken"] = token
        fetched_at = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        folder = Path(self.archive_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"api-{fetched_at}.json"
        path.write_text(json.dumps(pages, default=str), encoding="utf-8")
        log.info(f"Fetched {len(pages)} Cost Explorer page(s) for [{start}, {end}) into {path}")
        return [Fetch(source_name=f"api/{fetched_at}", path=path)]


def _botocore_retries(client: Any, error: ClientError) -> bool:
    """Whether botocore's retry conditions hold for this answer (throttling, 429, transient errors).

    Asked of botocore itself, so the 4xx that fail at once are exactly those it would not retry,
    in either retry mode (adaptive uses the standard conditions).
    """
    answer = RetryContext(
        attempt_number=1,
        operation_model=client.meta.service_model.operation_model(error.operation_name),
        parsed_response=error.response,
        http_response=AWSResponse(url="", status_code=error.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode", 0), headers={}, raw=None),
    )
    return StandardRetryConditions(max_attempts=2).is_retryable(answer)
