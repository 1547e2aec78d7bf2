"""boto3 clients built the dagster-aws way, with botocore's retry modes as the one retry policy.

Every AWS client of the project (Cost Explorer, EventBridge) comes from
:meth:`Boto3ClientResource.boto3_client`, so they share the session fields of
dagster-aws's ``ResourceWithBoto3Configuration`` and the same retry behaviour.
"""

from __future__ import annotations

from typing import Any, Literal

from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field


class Boto3ClientResource(ResourceWithBoto3Configuration):
    """dagster-aws's boto3 configuration, plus botocore's retry mode.

    dagster-aws's own helper (``construct_boto_client_retry_config``) always picks the
    ``standard`` mode, hence this field. botocore then retries throttling (429 and the
    throttling error codes), transient 5xx answers and connection failures with
    exponential backoff and jitter; ``adaptive`` also slows the client down after a
    throttle. Any other 4xx is returned at once.
    """

    retry_mode: Literal["standard", "adaptive"] = Field(
        default="standard",
        description="botocore retry mode: standard (backoff with jitter), or adaptive (also rate-limits the "
                    "client after throttling)",
    )

    def boto3_client(self, service_name: str) -> Any:
        # Imported here: boto3 is slow to import and only the production target calls AWS.
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(profile_name=self.profile_name)
        return session.client(
            service_name,
            region_name=self.region_name,
            use_ssl=self.use_ssl,
            verify=self.verify,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            # total_max_attempts, not max_attempts: botocore's max_attempts counts retries only,
            # while the dagster-aws field counts the first call too.
            config=Config(retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts}),
        )
