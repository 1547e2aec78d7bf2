"""Sensors that reach people: alert delivery (EventBridge, Slack) and failed runs to Slack.

They depend on no setting, so they are plain module-level definitions that the defs folder loads.
"""

import datetime as dt

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from costattr_pipeline.defs.alerts.delivery import deliver_pending
from costattr_pipeline.lib.alert_messages import FIRST_RETRY
from costattr_pipeline.resources.alert_channels import EventBridgeChannelBase, SlackChannel
from costattr_pipeline.resources.warehouse import Warehouse, WarehouseBusy

ALERT_DELIVERY_SENSOR = "alert_delivery"
RUN_FAILURE_SENSOR = "run_failure_to_slack"


def build_alert_delivery_sensor(first_retry: dt.timedelta = FIRST_RETRY) -> dg.SensorDefinition:
    @dg.sensor(
        name=ALERT_DELIVERY_SENSOR,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Delivers every alert recorded in metering.alerts (a failed unattributed-share check) to each "
            "configured channel (EventBridge, Slack). A channel that fails is retried on later ticks with "
            "exponential backoff; an alert a channel accepted is never sent to it again. The tick log and "
            "metering.alerts (status, attempts, last_error, sent_at) show the delivery state."
        ),
    )
    def alert_delivery(context: dg.SensorEvaluationContext, warehouse: Warehouse, eventbridge: EventBridgeChannelBase,
                       slack: SlackChannel) -> dg.SkipReason:
        channels = {}
        if eventbridge.enabled:
            channels["eventbridge"] = eventbridge.publish
        if slack.enabled:
            channels["slack"] = slack.post_alert
        if not channels:
            return dg.SkipReason("No alert channel is configured: alerts go to the log channel only.")
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        try:
            with warehouse.session(wait_seconds=0) as session:  # a tick must not wait for a run
                report = deliver_pending(session, channels, now, first_retry)
        except WarehouseBusy as error:  # a run holds the warehouse; try on the next tick
            return dg.SkipReason(f"Warehouse busy, retrying next tick: {error}")
        for alert_id, channel in report.sent:
            context.log.info(f"Delivered alert {alert_id} to {channel}")
        for alert_id, channel, error in report.failed:
            context.log.warning(f"Alert {alert_id} not delivered to {channel}: {error}")
        return dg.SkipReason(report.summary())

    return alert_delivery


def _error_summary(context: dg.RunFailureSensorContext) -> str:
    """The first failed step's error, else the run's failure message."""
    for record in context.instance.all_logs(context.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        if error is not None:
            while error.cause is not None and "costattr" not in error.cls_name.lower():
                error = error.cause
            return f"{event.step_key}: {error.message.strip().splitlines()[0]}"
    return context.failure_event.message or "unknown error"


@dg.run_failure_sensor(
    name=RUN_FAILURE_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts every failed run (job, partition range, error summary) to Slack.",
)
def run_failure_to_slack(context: dg.RunFailureSensorContext, slack: SlackChannel) -> None:
    if not slack.enabled:
        context.log.info("Slack is not configured; failed run not posted.")
        return
    run = context.dagster_run
    tags = run.tags
    partitions = (f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}"
                  if ASSET_PARTITION_RANGE_START_TAG in tags else tags.get("dagster/partition", "none"))
    text = (f":x: costattr run failed: job `{run.job_name}`, partitions {partitions}, run {run.run_id[:8]}. "
            f"Error: {_error_summary(context)}")
    if slack.ui_base_url:
        text += f" <{slack.ui_base_url.rstrip('/')}/runs/{run.run_id}|Open the run>"
    slack.post(text)


alert_delivery = build_alert_delivery_sensor()
