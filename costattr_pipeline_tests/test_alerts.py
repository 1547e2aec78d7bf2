"""Alerts reach people: EventBridge (moto) and Slack (local HTTP server) through the sensors."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Iterator
from decimal import Decimal

import boto3
import dagster as dg
import pytest
from dagster_slack import SlackResource

from costattr_pipeline.defs.alerts.sensors import build_alert_delivery_sensor, run_failure_to_slack
from costattr_pipeline.lib.alert_messages import EVENTBRIDGE_DETAIL_FIELDS, next_attempt_after, slack_text
from costattr_pipeline.lib.config import Settings
from costattr_pipeline.resources.alert_channels import SlackChannel, SlackWebApi
from costattr_pipeline.resources.eventbridge import EventBridgeChannel
from costattr_pipeline.resources.targets import resources_for
from costattr_pipeline.resources.warehouse import DuckDBWarehouse
from costattr_pipeline.runner import RunFailed, run_range
from costattr_pipeline.target import Target
from costattr_pipeline_tests.aws_stand_ins import FaultProxy, moto_behind_proxy, shorten_botocore_backoff
from costattr_pipeline_tests.builders import group, page, write_fetch
from costattr_pipeline_tests.conftest import query
from costattr_pipeline_tests.slack_stand_in import SlackStandIn, running_slack

BREACH_DAY = "2026-03-03"
PAYLOAD = {"alert_id": "a-1", "check_name": "unattributed_share_within_threshold", "cost_date": "2026-03-03",
           "total_aws_cost_usd": "1234.560000000000", "unattributed_cost_usd": "100.000000000000",
           "unattributed_share": "0.081001000000", "threshold": "0.020000"}


@pytest.fixture(scope="module")
def running_moto() -> Iterator[FaultProxy]:
    with moto_behind_proxy() as proxy:
        yield proxy


@pytest.fixture
def aws(running_moto: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    shorten_botocore_backoff(monkeypatch)
    running_moto.reset()
    return running_moto


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with running_slack() as stand_in:
        yield stand_in


def _client(proxy: FaultProxy, service: str):
    return boto3.client(service, region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _queue_for_alerts(proxy: FaultProxy) -> str:
    """An SQS queue receiving every event of the costattr source through an EventBridge rule."""
    sqs, events = _client(proxy, "sqs"), _client(proxy, "events")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="costattr-alerts", EventPattern=json.dumps({"source": ["bank.risk-platform"]}))
    events.put_targets(Rule="costattr-alerts", Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def _received_events(proxy: FaultProxy, queue_url: str) -> list[dict]:
    messages = _client(proxy, "sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                      WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def _eventbridge(proxy: FaultProxy, max_attempts: int = 5) -> EventBridgeChannel:
    return EventBridgeChannel(region_name="us-east-1", endpoint_url=proxy.url, aws_access_key_id="testing",
                              aws_secret_access_key="testing", max_attempts=max_attempts)


def _breach(target) -> None:
    write_fetch(target.source_dir, "f.json", page({
        "2026-03-02": [group("acme", "EC2", "99"), group(None, "VPC", "1")],
        BREACH_DAY: [group("acme", "EC2", "90"), group(None, "VPC", "10")]}))
    run_range(target, dt.date(2026, 3, 2), dt.date(2026, 3, 4))


def _tick(target, instance, eventbridge, slack_channel, sensor=None) -> str:
    sensor = sensor or build_alert_delivery_sensor(first_retry=dt.timedelta(0))
    # Entered, as the sensor daemon does: the Slack channel holds dagster-slack's resource, a nested resource.
    with dg.build_sensor_context(instance=instance, resources={
            "warehouse": DuckDBWarehouse(path=str(target.warehouse)), "eventbridge": eventbridge,
            "slack": slack_channel}) as context:
        result = sensor.evaluate_tick(context)
    assert not result.run_requests
    return result.skip_message or ""


def _delivery_state(target) -> list[tuple]:
    return query(target, "SELECT sent_to, status, attempts, last_error IS NOT NULL, sent_at IS NOT NULL "
                         "FROM metering.alerts ORDER BY sent_to")


def test_breach_is_published_to_eventbridge_with_the_contract_detail(target, aws: FaultProxy, slack) -> None:
    _breach(target)
    queue_url = _queue_for_alerts(aws)
    with dg.instance_for_test() as instance:
        message = _tick(target, instance, _eventbridge(aws),
                        SlackChannel(webhook_url=slack.webhook_url))
    assert message.startswith("2 delivered, 0 failed")
    events = _received_events(aws, queue_url)
    assert len(events) == 1
    event = events[0]
    assert event["source"] == "bank.risk-platform"
    assert event["detail-type"] == "unattributed_cost_threshold_exceeded"
    detail = event["detail"]
    assert tuple(detail) == EVENTBRIDGE_DETAIL_FIELDS
    alert_id = query(target, "SELECT DISTINCT alert_id FROM metering.alerts")[0][0]
    assert detail["alert_id"] == alert_id
    assert detail["cost_date"] == BREACH_DAY
    assert Decimal(detail["total_aws_cost_usd"]) == Decimal("100")
    assert Decimal(detail["unattributed_cost_usd"]) == Decimal("10")
    assert Decimal(detail["unattributed_share"]) == Decimal("0.1")
    assert Decimal(detail["threshold"]) == Decimal("0.02")
    assert detail["trace_id"] and dt.datetime.fromisoformat(detail["event_time"].replace("Z", "+00:00"))
    assert [r["body"]["text"] for r in slack.received] == [
        ":rotating_light: Unattributed AWS cost on 2026-03-03 is 10.00 % of $100.00 (threshold 2.00 %): "
        "$10.00 has no tenant tag."]
    assert _delivery_state(target) == [("eventbridge", "sent", 1, False, True), ("log", "sent", 1, False, True),
                                       ("slack", "sent", 1, False, True)]


def test_a_second_evaluation_sends_nothing_again(target, aws: FaultProxy, slack) -> None:
    _breach(target)
    queue_url = _queue_for_alerts(aws)
    with dg.instance_for_test() as instance:
        _tick(target, instance, _eventbridge(aws), SlackChannel(webhook_url=slack.webhook_url))
        # The same breach is evaluated again (a re-run of the day), then the sensor ticks again.
        run_range(target, dt.date(2026, 3, 3), dt.date(2026, 3, 4))
        message = _tick(target, instance, _eventbridge(aws), SlackChannel(webhook_url=slack.webhook_url))
    assert message.startswith("0 delivered, 0 failed")
    assert len(_received_events(aws, queue_url)) == 1
    assert len(slack.received) == 1


def test_slack_down_for_two_ticks_then_up_delivers_once(target, slack: SlackStandIn) -> None:
    _breach(target)
    disabled = EventBridgeChannel(enabled=False)
    channel = SlackChannel(webhook_url=slack.webhook_url)
    slack.down_for = 2
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, disabled, channel).startswith("0 delivered, 1 failed")
        state = query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'slack'")
        assert state[0][:2] == ("pending", 1) and "503" in state[0][2]
        assert _tick(target, instance, disabled, channel).startswith("0 delivered, 1 failed")
        assert _tick(target, instance, disabled, channel).startswith("1 delivered, 0 failed")
        assert _tick(target, instance, disabled, channel).startswith("0 delivered, 0 failed")
    assert len(slack.received) == 1
    assert query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'slack'") == [
        ("sent", 3, None)]


def test_backoff_waits_between_ticks(target, slack: SlackStandIn) -> None:
    _breach(target)
    slack.down_for = 1
    channel = SlackChannel(webhook_url=slack.webhook_url)
    sensor = build_alert_delivery_sensor(first_retry=dt.timedelta(hours=1))
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel, sensor).startswith(
            "0 delivered, 1 failed")
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel, sensor) == (
            "0 delivered, 0 failed (will retry), 1 waiting for their next attempt")
    assert slack.received == []


def test_partial_put_events_failure_keeps_the_alert_pending(target, aws: FaultProxy) -> None:
    _breach(target)
    queue_url = _queue_for_alerts(aws)
    aws.faults = [(200, {"FailedEntryCount": 1, "Entries": [
        {"ErrorCode": "InternalFailure", "ErrorMessage": "injected partial failure"}]})]
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, _eventbridge(aws), SlackChannel(enabled=False)).startswith(
            "0 delivered, 1 failed")
        state = query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'eventbridge'")
        assert state[0][:2] == ("pending", 1) and "InternalFailure" in state[0][2]
        assert _received_events(aws, queue_url) == []
        assert _tick(target, instance, _eventbridge(aws), SlackChannel(enabled=False)).startswith("1 delivered")
    assert len(_received_events(aws, queue_url)) == 1


def test_put_events_throttled_then_5xx_is_retried_by_botocore_within_one_tick(target, aws: FaultProxy) -> None:
    _breach(target)
    queue_url = _queue_for_alerts(aws)
    aws.calls = 0
    aws.faults = [(400, "ThrottlingException"), (503, "ServiceUnavailable")]
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, _eventbridge(aws, max_attempts=3), SlackChannel(enabled=False)).startswith(
            "1 delivered, 0 failed")
    assert aws.calls == 3  # two failed PutEvents, then the one that went through
    assert len(_received_events(aws, queue_url)) == 1
    assert query(target, "SELECT status, attempts FROM metering.alerts WHERE sent_to = 'eventbridge'") == [("sent", 1)]


@pytest.mark.parametrize(("faults", "calls", "error"), [
    ([(503, "ServiceUnavailable")] * 3, 2, "ServiceUnavailable"),      # botocore's attempts run out
    ([(400, "ValidationException")] * 3, 1, "ValidationException"),    # a 4xx is not retried
])
def test_put_events_still_failing_or_refused_keeps_the_alert_pending(target, aws: FaultProxy, faults, calls,
                                                                     error) -> None:
    _breach(target)
    queue_url = _queue_for_alerts(aws)
    aws.calls = 0
    aws.faults = list(faults)
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, _eventbridge(aws, max_attempts=2), SlackChannel(enabled=False)).startswith(
            "0 delivered, 1 failed")
    assert aws.calls == calls
    aws.faults = []
    state = query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'eventbridge'")
    assert state[0][:2] == ("pending", 1) and error in state[0][2]
    assert _received_events(aws, queue_url) == []


def test_no_channel_configured_means_log_only(target) -> None:
    _breach(target)
    with dg.instance_for_test() as instance:
        message = _tick(target, instance, EventBridgeChannel(enabled=False), SlackChannel(enabled=False))
    assert message == "No alert channel is configured: alerts go to the log channel only."
    assert _delivery_state(target) == [("log", "sent", 1, False, True)]


def test_slack_web_api_message_names_day_share_threshold_amounts_and_link(slack: SlackStandIn) -> None:
    SlackChannel(web_api=SlackWebApi(token="xoxb-test", base_url=slack.api_base_url), channel="#finops",
                 ui_base_url="http://dagster.example:3000/").post_alert(PAYLOAD)
    request = slack.received[0]
    assert request["path"] == "/api/chat.postMessage"
    assert request["authorization"] == "Bearer xoxb-test"
    assert request["body"]["channel"] == "#finops"
    assert request["body"]["text"] == (
        ":rotating_light: Unattributed AWS cost on 2026-03-03 is 8.10 % of $1,234.56 (threshold 2.00 %): "
        "$100.00 has no tenant tag. <http://dagster.example:3000/assets/metering/unattributed_costs|Open in Dagster>")
    assert slack_text(PAYLOAD) == request["body"]["text"].split(" <")[0]


def _slack_web_api(slack: SlackStandIn) -> SlackChannel:
    """The production shape: dagster-slack's resource with the token from the environment."""
    return SlackChannel(web_api=SlackWebApi(token=dg.EnvVar("SLACK_BOT_TOKEN"), base_url=slack.api_base_url),
                        channel=dg.EnvVar("SLACK_CHANNEL"))


def test_alert_reaches_slack_through_the_dagster_slack_resource(target, slack: SlackStandIn,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("SLACK_CHANNEL", "#finops")
    _breach(target)
    channel = _slack_web_api(slack)
    assert isinstance(channel.web_api, SlackResource)
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel).startswith("1 delivered, 0 failed")
    assert [(r["path"], r["authorization"], r["body"]["channel"]) for r in slack.received] == [
        ("/api/chat.postMessage", "Bearer xoxb-from-env", "#finops")]
    assert slack.received[0]["body"]["text"].startswith(":rotating_light: Unattributed AWS cost on 2026-03-03")
    assert _delivery_state(target) == [("log", "sent", 1, False, True), ("slack", "sent", 1, False, True)]


@pytest.mark.parametrize(("refuse", "error"), [
    pytest.param(lambda slack: slack.errors.append("channel_not_found"), "HTTP 200: channel_not_found",
                 id="slack-refuses"),
    pytest.param(lambda slack: setattr(slack, "down_for", 1), "HTTP 503", id="slack-down"),
])
def test_a_slack_web_api_error_keeps_the_alert_pending(target, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch,
                                                       refuse, error: str) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.setenv("SLACK_CHANNEL", "#finops")
    _breach(target)
    refuse(slack)
    channel = _slack_web_api(slack)
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel).startswith("0 delivered, 1 failed")
        state = query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'slack'")
        assert state[0][:2] == ("pending", 1)
        assert state[0][2].startswith(f"Slack Web API at {slack.api_base_url} answered chat.postMessage with {error}")
        assert "xoxb" not in state[0][2]
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel).startswith("1 delivered, 0 failed")
    assert query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'slack'") == [
        ("sent", 2, None)]


def test_slack_unreachable_keeps_the_alert_pending(target) -> None:
    _breach(target)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    channel = SlackChannel(web_api=SlackWebApi(token="xoxb-test", base_url=f"http://127.0.0.1:{closed_port}/api/"),
                           channel="#finops")
    with dg.instance_for_test() as instance:
        assert _tick(target, instance, EventBridgeChannel(enabled=False), channel).startswith("0 delivered, 1 failed")
    state = query(target, "SELECT status, attempts, last_error FROM metering.alerts WHERE sent_to = 'slack'")
    assert state[0][:2] == ("pending", 1)
    assert state[0][2].startswith(f"Slack Web API at http://127.0.0.1:{closed_port}/api/ unreachable")


def test_prod_slack_is_the_dagster_slack_resource_unless_a_webhook_is_set(target, monkeypatch) -> None:
    prod = Target.resolve("prod", str(target.source_dir), None, str(target.warehouse))
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    by_token = resources_for(prod, Settings())["slack"]
    assert isinstance(by_token.web_api, SlackResource) and by_token.webhook_url is None
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.example/T/B/x")
    by_webhook = resources_for(prod, Settings())["slack"]
    assert by_webhook.web_api is None and by_webhook.webhook_url is not None


def test_backoff_doubles_and_is_capped() -> None:
    now = dt.datetime(2026, 3, 3)
    assert [next_attempt_after(n, now) - now for n in (1, 2, 3, 10)] == [
        dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4), dt.timedelta(hours=1)]


def test_run_failure_is_posted_to_slack(target, slack: SlackStandIn) -> None:
    (target.source_dir / "aws_cost_explorer").mkdir()
    (target.source_dir / "aws_cost_explorer" / "broken.json").write_text("{", encoding="utf-8")
    with dg.instance_for_test() as instance:
        with pytest.raises(RunFailed):
            run_range(target, dt.date(2026, 3, 1), dt.date(2026, 3, 3), instance=instance)
        run = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))[0]
        failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        with dg.build_run_status_sensor_context(
                sensor_name="run_failure_to_slack", dagster_event=failure, dagster_instance=instance, dagster_run=run,
                resources={"slack": SlackChannel(webhook_url=slack.webhook_url)}) as context:
            run_failure_to_slack(context)
    text = slack.received[0]["body"]["text"]
    assert text.startswith(f":x: costattr run failed: job `{run.job_name}`, partitions 2026-03-01..2026-03-02, ")
    assert "aws_cost_explorer/broken.json: malformed JSON" in text
