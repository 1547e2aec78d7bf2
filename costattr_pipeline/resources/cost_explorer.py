"""Cost Explorer readers: local export files, or the live GetCostAndUsage API.

Both hand the landing asset a list of :class:`Fetch` files; the API reader
writes each call's pages to a JSON file first, so one parser serves both.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from pathlib import Path
from typing import Any

import dagster as dg
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field

from costattr_pipeline.lib.config import AwsSettings
from costattr_pipeline.lib.cost_explorer import Fetch

THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
                    "LimitExceededException"}


class CostExplorerError(RuntimeError):
    """The API refused (``COST_EXPLORER_4XX``) or stayed unavailable (``COST_EXPLORER_UNAVAILABLE``)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


class CostExplorerSource(dg.ConfigurableResource):
    """Where Cost Explorer fetches come from."""

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        raise NotImplementedError


class CostExplorerExports(CostExplorerSource):
    """Local target: ``<source dir>/aws_cost_explorer/*.json``, read in lexicographic order of file name."""

    source_dir: str = Field(description="Source exports folder")

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        folder = Path(self.source_dir) / "aws_cost_explorer"
        if not folder.is_dir():
            return []
        return [Fetch(source_name=path.name, path=path) for path in sorted(folder.glob("*.json"))]


class CostExplorerApi(CostExplorerSource, ResourceWithBoto3Configuration):
    """Production: ``GetCostAndUsage`` through boto3, configured the dagster-aws way.

    Pages are followed through ``NextPageToken``. Throttling and 5xx answers are
    retried with exponential backoff and jitter; any other 4xx fails at once
    (``COST_EXPLORER_4XX``) because retrying a bad request cannot succeed.
    botocore's own retries are switched off so this is the one retry policy.
    """

    archive_dir: str = Field(default=".costattr/cost_explorer_fetches",
                             description="Folder where each fetch's pages are kept as JSON (the raw record)")
    retries: int = Field(default=5, description="Retries of a throttled or 5xx call before giving up")
    backoff_seconds: float = Field(default=1.0, description="First backoff; doubles on each retry")

    def _client(self) -> Any:
        import boto3

        session = boto3.session.Session(profile_name=self.profile_name)
        return session.client(
            "ce",
            region_name=self.region_name or "us-east-1",
            use_ssl=self.use_ssl,
            verify=self.verify,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    def _call(self, client: Any, request: dict[str, Any], log: Any) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            try:
                return client.get_cost_and_usage(**request)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                retryable = code in THROTTLING_CODES or status == 429 or status >= 500
                if not retryable:
                    raise CostExplorerError("COST_EXPLORER_4XX", f"{code or status}: {error}") from error
                reason = f"{code or status}"
            except EndpointConnectionError as error:
                reason = str(error)
            if attempt == self.retries:
                raise CostExplorerError("COST_EXPLORER_UNAVAILABLE",
                                        f"still failing after {self.retries + 1} attempts ({reason})")
            delay = self.backoff_seconds * (2**attempt) * (0.5 + random.random() / 2)
            log.warning(f"Cost Explorer call failed ({reason}); retrying in {delay:.2f}s")
            time.sleep(delay)
        raise AssertionError("unreachable")

    def fetches(self, start: dt.date, end: dt.date, aws: AwsSettings, log: Any) -> list[Fetch]:
        client = self._client()
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
